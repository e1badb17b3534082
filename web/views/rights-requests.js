// "Rights requests" (#/rights-requests), for practitioners, managers and
// platform admins. The page lists the requests sent to my organisation,
// open ones first by due day, with the person, the details and an overdue
// marker. A form records a request for someone without an account.
// Managers get Start, Complete and Refuse buttons, and a refusal needs the
// legal reason, which the person then reads. The server checks every
// permission, so the page only hides controls that the server would reject.

import { fetchRightsRequests, moveRightsRequest, recordRightsRequest } from '../api.js';
import { focusElement, h } from '../dom.js';
import { formatDate, formatDay } from '../format.js';
import { t } from '../i18n.js';
import { FormErrors, textArea } from './case-form-parts.js';
import { alertRegion, describeError, pageHeading, statusRegion } from './common.js';
import { field, selectField } from './fields.js';
import {
  DETAILS_MAX_CHARS,
  RIGHTS_KINDS,
  refusalReason,
  requestDays,
  requestDetails,
  stateBadges,
  textProblem,
} from './rights-parts.js';

/** The maximum length of a name or a contact, in characters, as the server checks it. */
const SUBJECT_MAX_CHARS = 200;
/** The maximum length of a refusal's legal reason, in characters, as the server checks it. */
const REASON_MAX_CHARS = 500;
const OPEN_STATES = new Set(['received', 'in_progress']);

const LIST_HEADING_ID = 'rights-requests-list-heading';
const RECORD_HEADING_ID = 'rights-requests-record-heading';

/**
 * Returns whether `user` may see and record requests: a practitioner or a
 * manager of an organisation, or a platform admin.
 */
function worksOnRequests(user) {
  const roles = user?.roles ?? [];
  const staff = roles.includes('practitioner') || roles.includes('manager');
  return (staff && Boolean(user.organisation_id)) || roles.includes('platform_admin');
}

/**
 * Returns whether `user` may decide the requests this page lists: a
 * manager of the organisation, or a platform admin who works for no
 * organisation, who decides the operator's requests.
 */
function decidesRequests(user) {
  const roles = user?.roles ?? [];
  if (roles.includes('manager')) return true;
  return roles.includes('platform_admin') && !roles.includes('practitioner');
}

function kindName(kind) {
  return t(RIGHTS_KINDS.includes(kind) ? `rights_requests.kind.${kind}` : 'rights.kind_unknown');
}

/** Returns who a request is about: a name and contact, or an account id. */
function subjectText(request) {
  if (request.subject) {
    return t('rights_requests.who_no_account', {
      name: request.subject.name,
      contact: request.subject.contact,
    });
  }
  return t('rights_requests.who_account', { id: request.subject_user_id ?? '' });
}

/** Creates a button whose accessible name adds `context` to its visible text. */
function buttonWithContext(className, label, context, onClick) {
  return h(
    'button',
    { type: 'button', class: className, on: { click: onClick } },
    label,
    h('span', { class: 'visually-hidden', text: ` ${context}` }),
  );
}

/**
 * Creates the Start, Complete and Refuse buttons of an open request, and
 * the form that Refuse opens in place for the legal reason. The buttons
 * call `actions.move(request, state, reason, control)`.
 */
function decisionBlock(request, actions) {
  const idBase = `rights-request-${request.id}`;
  const context = t('rights_requests.button_context', {
    kind: kindName(request.kind),
    date: formatDay(request.received_at),
  });
  const buttons = [];
  if (request.state === 'received') {
    const start = buttonWithContext('button', t('rights_requests.start'), context, () =>
      actions.move(request, 'in_progress', null, start),
    );
    buttons.push(start);
  }
  const complete = buttonWithContext('button', t('rights_requests.complete'), context, () =>
    actions.move(request, 'completed', null, complete),
  );
  const refuse = buttonWithContext(
    'button button--danger',
    t('rights_requests.refuse'),
    context,
    () => {
      opener.hidden = true;
      refusal.hidden = false;
      focusElement(reason.input);
    },
  );
  buttons.push(complete, refuse);
  // Completing an erasure for an account starts the account's erasure, so
  // the manager reads what that does before pressing.
  const erasesAccount = request.kind === 'erasure' && request.subject_user_id;
  const opener = h(
    'div',
    {},
    erasesAccount
      ? h('p', { class: 'field__hint', text: t('rights_requests.erasure_effect') })
      : null,
    h('div', { class: 'actions' }, buttons),
  );

  const errors = new FormErrors();
  const reason = textArea({
    id: `${idBase}-reason`,
    name: 'reason',
    label: t('rights_requests.reason_label'),
    hint: t('rights_requests.reason_hint'),
    maxLength: REASON_MAX_CHARS,
    rows: 3,
  });
  errors.addControl('reason', reason);
  const confirm = h('button', {
    type: 'submit',
    class: 'button button--danger',
    text: t('rights_requests.refuse_confirm'),
  });
  const cancel = h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: t('rights_requests.refuse_cancel'),
    on: {
      click: () => {
        errors.clear();
        refusal.hidden = true;
        opener.hidden = false;
        focusElement(refuse);
      },
    },
  });
  const headingId = `${idBase}-refuse-heading`;
  const refusal = h(
    'form',
    {
      class: 'form callout callout--important',
      noValidate: true,
      hidden: true,
      attrs: { 'aria-labelledby': headingId },
    },
    h('h4', { id: headingId, text: t('rights_requests.refuse_heading', { context }) }),
    reason.wrapper,
    h('div', { class: 'actions' }, confirm, cancel),
  );
  refusal.addEventListener('submit', (event) => {
    event.preventDefault();
    errors.clear();
    const text = reason.input.value.trim();
    const problem = textProblem(text, {
      prefix: 'rights_requests.reason',
      maxChars: REASON_MAX_CHARS,
      required: true,
    });
    if (problem) {
      errors.show([['reason', t(problem)]]);
      return;
    }
    actions.move(request, 'refused', text, confirm, (error) => {
      if (error.code !== 'request.invalid_field' || error.field !== 'reason') return false;
      errors.show([['reason', t('rights_requests.reason_invalid')]]);
      return true;
    });
  });
  return h('div', { class: 'rights-card__actions' }, opener, refusal);
}

function requestItem(request, actions, canDecide) {
  return h(
    'li',
    { class: 'rights-card', dataset: { requestId: request.id, state: request.state } },
    h('h3', { class: 'rights-card__title', text: kindName(request.kind) }),
    h('p', { class: 'rights-card__meta' }, stateBadges(request)),
    h('p', { class: 'rights-card__who', text: subjectText(request) }),
    requestDays(request),
    requestDetails(request),
    refusalReason(request),
    canDecide && OPEN_STATES.has(request.state) ? decisionBlock(request, actions) : null,
  );
}

/**
 * Creates the form that records a request for someone without an account.
 * `onRecorded(request)` runs with the request the server recorded.
 */
function recordSection(ctx, onRecorded) {
  const errors = new FormErrors();
  const status = statusRegion();
  const alert = alertRegion();
  const name = field({
    id: 'rights-record-name',
    name: 'name',
    label: t('rights_requests.name_label'),
    attrs: { maxlength: SUBJECT_MAX_CHARS, autocomplete: 'off' },
  });
  const contact = field({
    id: 'rights-record-contact',
    name: 'contact',
    label: t('rights_requests.contact_label'),
    hint: t('rights_requests.contact_hint'),
    attrs: { maxlength: SUBJECT_MAX_CHARS, autocomplete: 'off' },
  });
  const kind = selectField({
    id: 'rights-record-kind',
    name: 'kind',
    label: t('rights_requests.kind_label'),
    options: RIGHTS_KINDS.map((code) => ({ value: code, label: kindName(code) })),
    prompt: t('rights.kind_prompt'),
  });
  const details = textArea({
    id: 'rights-record-details',
    name: 'details',
    label: t('rights_requests.details_label'),
    hint: t('rights_requests.details_hint'),
    maxLength: DETAILS_MAX_CHARS,
    rows: 4,
  });
  // The server names a missing name or contact as `subject`, and a wrong one by its own path.
  errors.addControl('subject.name', name);
  errors.addControl('subject.contact', contact);
  errors.addControl('kind', kind);
  errors.addControl('details', details);
  const submit = h('button', {
    type: 'submit',
    class: 'button',
    text: t('rights_requests.record_submit'),
  });
  const form = h(
    'form',
    { class: 'form', noValidate: true, attrs: { 'aria-labelledby': RECORD_HEADING_ID } },
    name.wrapper,
    contact.wrapper,
    kind.wrapper,
    details.wrapper,
    submit,
  );

  function read() {
    return {
      name: name.input.value.trim(),
      contact: contact.input.value.trim(),
      kind: kind.input.value,
      details: details.input.value.trim(),
    };
  }

  /** Shows the problems this page finds before sending, and returns whether there were none. */
  function check(values) {
    errors.clear();
    const problems = [];
    const nameProblem = textProblem(values.name, {
      prefix: 'rights_requests.name',
      maxChars: SUBJECT_MAX_CHARS,
      required: true,
    });
    if (nameProblem) problems.push(['subject.name', t(nameProblem)]);
    const contactProblem = textProblem(values.contact, {
      prefix: 'rights_requests.contact',
      maxChars: SUBJECT_MAX_CHARS,
      required: true,
    });
    if (contactProblem) problems.push(['subject.contact', t(contactProblem)]);
    if (!values.kind) problems.push(['kind', t('rights.kind_missing')]);
    const detailsProblem = textProblem(values.details, {
      prefix: 'rights.details',
      maxChars: DETAILS_MAX_CHARS,
      required: values.kind === 'correction',
    });
    if (detailsProblem) problems.push(['details', t(detailsProblem)]);
    errors.show(problems);
    return problems.length === 0;
  }

  function showFailure(error) {
    if (error.code === 'request.invalid_field' && errors.has(error.field)) {
      const key = {
        'subject.name': 'rights_requests.name_invalid',
        'subject.contact': 'rights_requests.contact_invalid',
        kind: 'rights.kind_invalid',
        details: 'rights.details_invalid',
      }[error.field];
      errors.show([[error.field, t(key)]]);
      return;
    }
    let text = describeError(error);
    if (error.code === 'request.invalid_field' && error.field === 'subject') {
      text = t('rights_requests.subject_invalid');
    }
    if (error.code === 'request.forbidden') text = t('rights_requests.staff_only');
    alert.textContent = text;
    focusElement(alert);
  }

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    status.textContent = '';
    alert.textContent = '';
    const values = read();
    if (!check(values)) return;
    busy = true;
    submit.disabled = true;
    try {
      const recorded = await recordRightsRequest(
        values.kind,
        { name: values.name, contact: values.contact },
        values.details,
      );
      if (ctx.signal.aborted) return;
      form.reset();
      status.textContent = t('rights_requests.recorded', {
        name: values.name,
        date: formatDate(recorded.due_on),
      });
      await onRecorded(recorded);
    } catch (error) {
      if (!ctx.signal.aborted) showFailure(error);
    } finally {
      busy = false;
      submit.disabled = false;
    }
  });

  return h(
    'section',
    { class: 'rights__section', attrs: { 'aria-labelledby': RECORD_HEADING_ID } },
    h('h2', { id: RECORD_HEADING_ID, text: t('rights_requests.record_heading') }),
    h('p', { text: t('rights_requests.record_intro') }),
    status,
    alert,
    form,
  );
}

/** Returns the confirmation of a move to `state`. */
function movedText(state) {
  if (state === 'in_progress') return t('rights_requests.started');
  if (state === 'completed') return t('rights_requests.completed');
  return t('rights_requests.refused');
}

export async function mount(main, ctx) {
  ctx.setTitle(t('rights_requests.title'));
  const panel = h('section', { class: 'panel rights' }, pageHeading(t('rights_requests.title')));
  main.append(panel);
  if (!worksOnRequests(ctx.user)) {
    panel.append(h('p', { text: t('rights_requests.staff_only') }));
    return;
  }
  const canDecide = decidesRequests(ctx.user);

  const loading = statusRegion();
  const notice = statusRegion();
  const alert = alertRegion();
  const listHeading = h('h2', {
    id: LIST_HEADING_ID,
    text: t('rights_requests.list_heading'),
    attrs: { tabindex: '-1' },
  });
  const list = h('ul', { class: 'rights-list', attrs: { 'aria-labelledby': LIST_HEADING_ID } });

  async function load() {
    loading.textContent = t('app.loading');
    try {
      const requests = await fetchRightsRequests();
      if (ctx.signal.aborted) return;
      list.replaceChildren(...requests.map((request) => requestItem(request, actions, canDecide)));
      if (requests.length === 0) {
        list.append(h('li', { class: 'empty', text: t('rights_requests.empty') }));
      }
    } catch (error) {
      if (!ctx.signal.aborted) alert.textContent = describeError(error);
    } finally {
      if (!ctx.signal.aborted) loading.textContent = '';
    }
  }

  let busy = false;
  const actions = {
    /**
     * Moves `request` to `state` and loads the list again. `control` is
     * disabled meanwhile, and `showFieldFailure(error)` may show a
     * failure next to a field and return true.
     */
    async move(request, state, reason, control, showFieldFailure = () => false) {
      if (busy) return;
      busy = true;
      control.disabled = true;
      notice.textContent = '';
      alert.textContent = '';
      try {
        await moveRightsRequest(request.id, state, reason);
        if (ctx.signal.aborted) return;
        notice.textContent = movedText(state);
        await load();
        // The buttons are gone with the list they were in, so focus moves to its heading.
        focusElement(listHeading);
      } catch (error) {
        if (ctx.signal.aborted) return;
        control.disabled = false;
        if (showFieldFailure(error)) return;
        const movedOn =
          error.code === 'resource.conflict' ||
          (error.code === 'request.invalid_field' && error.field === 'state');
        if (movedOn) {
          // Another manager moved the request meanwhile, so the list shows its current state.
          alert.textContent = t('rights_requests.moved_on');
          await load();
        } else if (error.code === 'request.forbidden') {
          alert.textContent = t('rights_requests.decide_forbidden');
        } else {
          alert.textContent = describeError(error);
        }
        focusElement(alert);
      } finally {
        busy = false;
      }
    },
  };

  panel.append(
    h('p', { text: t('rights_requests.intro') }),
    h(
      'section',
      { class: 'rights__section', attrs: { 'aria-labelledby': LIST_HEADING_ID } },
      listHeading,
      loading,
      notice,
      alert,
      list,
    ),
    recordSection(ctx, load),
  );
  await load();
}
