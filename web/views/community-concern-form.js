// The moderator's "Pass to an organisation" for one post: a safeguarding
// concern, the one way a post reaches an organisation that places
// children. The organisation's managers read the post, its topic, the
// moderator's reason and the account that wrote it. The member is told,
// with the organisation's name and the reason, unless the moderator
// unticks "Tell the member" and says why telling them could put a child
// at risk.

import { fetchConcernOrganisations, raiseConcern } from '../community-api.js';
import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import {
  charCount,
  contextButton,
  describeCommunityError,
  SHORT_TEXT_MAX_CHARS,
} from './community-parts.js';
import { alertRegion, statusRegion } from './common.js';
import {
  checkboxField,
  clearFieldError,
  field,
  selectField,
  showFieldError,
} from './fields.js';

/**
 * Returns a function that loads the organisations a concern can go to the
 * first time it is called, and returns the same promise afterwards, so a
 * page with many posts loads them once. A failed load is tried again on
 * the next call.
 */
export function organisationLoader() {
  let loading = null;
  return () => {
    loading ??= fetchConcernOrganisations().catch((error) => {
      loading = null;
      throw error;
    });
    return loading;
  };
}

/**
 * Creates the "Pass to an organisation" button of `post` and the form it opens. `id` is the
 * base of its element ids, unique on the page, and `organisations()`
 * returns a promise of the organisations to choose from, as
 * organisationLoader makes it. Returns `{ open, form, status }`, the
 * elements to put under the post.
 */
export function concernTools({ ctx, post, membership, id, organisations }) {
  const authorName = post.author?.display_name ?? t('community.former_member');
  const status = statusRegion();
  const alert = alertRegion();
  const organisationField = selectField({
    id: `${id}-organisation`,
    name: 'organisation_id',
    label: t('community.concern.organisation_label'),
    hint: t('community.concern.organisation_hint'),
    options: [],
    prompt: t('community.concern.organisation_prompt'),
  });
  const reasonField = field({
    id: `${id}-reason`,
    name: 'reason',
    tag: 'textarea',
    label: t('community.concern.reason_label'),
    hint: t('community.concern.reason_hint', { max: SHORT_TEXT_MAX_CHARS }),
  });
  reasonField.input.rows = 3;
  const tell = checkboxField({
    id: `${id}-tell`,
    name: 'tell_member',
    label: t('community.concern.tell_label'),
    hint: t('community.concern.tell_hint'),
  });
  tell.input.checked = true;
  const whyNotField = field({
    id: `${id}-not-told`,
    name: 'not_told_because',
    tag: 'textarea',
    label: t('community.concern.not_told_label'),
    hint: t('community.concern.not_told_hint', { max: SHORT_TEXT_MAX_CHARS }),
  });
  whyNotField.input.rows = 3;
  whyNotField.wrapper.hidden = true;
  tell.input.addEventListener('change', () => {
    whyNotField.wrapper.hidden = tell.input.checked;
  });

  const submit = h('button', {
    type: 'submit',
    class: 'button',
    text: t('community.concern.submit'),
  });
  const cancel = h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: t('community.cancel'),
    on: { click: () => close() },
  });
  const form = h(
    'form',
    {
      class: 'form community-reason-form',
      noValidate: true,
      hidden: true,
      attrs: { 'aria-label': t('community.concern.form_label', { name: authorName }) },
    },
    h('p', { class: 'field__hint', text: t('community.concern.intro') }),
    alert,
    organisationField.wrapper,
    reasonField.wrapper,
    tell.wrapper,
    whyNotField.wrapper,
    h('div', { class: 'actions' }, submit, cancel),
  );
  const open = contextButton(
    'button button--secondary button--small',
    t('community.concern.open'),
    t('community.post.context', { name: authorName }),
    () => show(),
  );

  /** Fills the organisation list once it has loaded, keeping a choice already made. */
  async function fillOrganisations() {
    const select = organisationField.input;
    if (select.options.length > 1) return;
    select.disabled = true;
    try {
      const listed = await organisations();
      if (ctx.signal.aborted) return;
      const options = listed.map((organisation) =>
        h('option', { value: organisation.id, text: organisation.name }),
      );
      select.append(...options);
    } catch (error) {
      if (ctx.signal.aborted) return;
      alert.textContent = describeCommunityError(error, membership);
    } finally {
      select.disabled = false;
    }
  }

  async function show() {
    open.hidden = true;
    form.hidden = false;
    status.textContent = '';
    await fillOrganisations();
    if (!ctx.signal.aborted) focusElement(organisationField.input);
  }

  function close() {
    form.hidden = true;
    open.hidden = false;
    focusElement(open);
  }

  function clearErrors() {
    alert.textContent = '';
    for (const control of [organisationField, reasonField, whyNotField]) clearFieldError(control);
  }

  const errors = {
    organisation_id: () => [organisationField, t('community.concern.organisation_missing')],
    reason: () => [reasonField, t('community.reason_invalid', { max: SHORT_TEXT_MAX_CHARS })],
    not_told_because: () => [
      whyNotField,
      t('community.concern.not_told_invalid', { max: SHORT_TEXT_MAX_CHARS }),
    ],
  };

  /** Shows the errors of the named fields, later ones first so focus ends on the first. */
  function showErrors(names) {
    for (const name of [...names].reverse()) {
      const [control, text] = errors[name]();
      showFieldError(control, text);
      focusElement(control.input);
    }
  }

  /** Returns the request body, or null after showing what is wrong with the fields. */
  function values() {
    const organisationId = organisationField.input.value;
    const reason = reasonField.input.value.trim();
    const tellMember = tell.input.checked;
    const whyNot = whyNotField.input.value.trim();
    const problems = [];
    if (!organisationId) problems.push('organisation_id');
    if (reason.length === 0 || charCount(reason) > SHORT_TEXT_MAX_CHARS) problems.push('reason');
    if (!tellMember && (whyNot.length === 0 || charCount(whyNot) > SHORT_TEXT_MAX_CHARS)) {
      problems.push('not_told_because');
    }
    if (problems.length > 0) {
      showErrors(problems);
      return null;
    }
    const body = { organisation_id: organisationId, reason, tell_member: tellMember };
    if (!tellMember) body.not_told_because = whyNot;
    return body;
  }

  function organisationName(organisationId) {
    const options = [...organisationField.input.options];
    return options.find((each) => each.value === organisationId)?.textContent ?? '';
  }

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    clearErrors();
    const body = values();
    if (!body) return;
    const name = organisationName(body.organisation_id);
    busy = true;
    submit.disabled = true;
    try {
      const concern = await raiseConcern(post.id, body);
      if (ctx.signal.aborted) return;
      form.reset();
      tell.input.checked = true;
      whyNotField.wrapper.hidden = true;
      form.hidden = true;
      open.hidden = false;
      const told = concern?.member_told ?? body.tell_member;
      const outcome = told ? 'told' : 'not_told';
      status.textContent = t(`community.concern.done.${outcome}`, { organisation: name });
      focusElement(status);
    } catch (error) {
      if (ctx.signal.aborted) return;
      const rejected = error.code === 'request.invalid_field' ? errors[error.field] : null;
      if (rejected) {
        showErrors([error.field]);
      } else if (error.code === 'resource.conflict') {
        alert.textContent = t('community.concern.already', { organisation: name });
        focusElement(alert);
      } else {
        alert.textContent = describeCommunityError(error, membership);
        focusElement(alert);
      }
    } finally {
      busy = false;
      submit.disabled = false;
    }
  });

  return { open, form, status };
}
