// The Invitations area of a contact link's conversation view, for its
// supervising practitioner. A form invites a family member by email, and
// a list shows the link's invitations with their status. When an invited
// person has chosen a password, their account waits until the practitioner
// confirms who they are from this list. Only then can they sign in.

import { confirmUser, createInvitation, fetchInvitations } from '../api.js';
import { focusElement, h } from '../dom.js';
import { formatTime } from '../format.js';
import { t } from '../i18n.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import { clearFieldError, field, radioGroup, showFieldError } from './fields.js';
import { sideText } from './letter-parts.js';

/** The relationships each side of a contact agreement allows, in the order the forms offer them. */
export const RELATIONSHIPS = {
  adoptive: ['adoptive_parent', 'adopted_child'],
  birth: [
    'parent',
    'grandparent',
    'sibling',
    'sibling_placed_elsewhere',
    'aunt_or_uncle',
    'other_relative',
  ],
};

const STATUSES = new Set(['waiting', 'expired', 'accepted', 'confirmed']);

/** Returns a party's relationship to the child in words, such as "Grandparent". */
export function relationshipText(relationship) {
  const known = Object.values(RELATIONSHIPS).some((list) => list.includes(relationship));
  return t(known ? `relationship.${relationship}` : 'relationship.unknown');
}

function statusText(status) {
  return t(STATUSES.has(status) ? `invitations.status.${status}` : 'invitations.status.unknown');
}

/** Creates the line under a waiting or expired invitation about how long its link works. */
function expiryLine(invitation) {
  if (invitation.status === 'waiting') {
    const time = formatTime(invitation.expires_at);
    return h('p', { class: 'invitation-card__meta', text: t('invitations.works_until', { time }) });
  }
  if (invitation.status === 'expired') {
    return h('p', { class: 'invitation-card__meta', text: t('invitations.expired_hint') });
  }
  return null;
}

/** Creates the explanation and the button that confirm an accepted invitation's account. */
function confirmBlock(invitation, onConfirm) {
  const hintId = `invitation-${invitation.id}-confirm-hint`;
  const button = h(
    'button',
    {
      type: 'button',
      class: 'button',
      attrs: { 'aria-describedby': hintId },
    },
    t('invitations.confirm'),
    h('span', {
      class: 'visually-hidden',
      text: ` ${t('invitations.confirm_context', { name: invitation.display_name })}`,
    }),
  );
  button.addEventListener('click', () => onConfirm(invitation, button));
  return h(
    'div',
    { class: 'invitation-card__confirm' },
    h('p', { id: hintId, text: t('invitations.confirm_hint') }),
    button,
  );
}

function invitationItem(invitation, onConfirm) {
  const status = STATUSES.has(invitation.status) ? invitation.status : 'unknown';
  return h(
    'li',
    { class: 'invitation-card', dataset: { invitationId: invitation.id } },
    h('h4', { class: 'invitation-card__title', text: invitation.display_name }),
    h(
      'p',
      { class: 'invitation-card__meta' },
      t('invitations.relationship_side', {
        relationship: relationshipText(invitation.relationship),
        side: sideText(invitation.side),
      }),
    ),
    h('p', { class: 'invitation-card__meta', text: invitation.email }),
    h(
      'p',
      { class: 'invitation-card__meta' },
      h('span', { class: `badge badge--invitation-${status}`, text: statusText(status) }),
      ' ',
      h('span', { text: t('invitations.invited', { time: formatTime(invitation.created_at) }) }),
    ),
    expiryLine(invitation),
    invitation.status === 'accepted' && invitation.user_id
      ? confirmBlock(invitation, onConfirm)
      : null,
  );
}

/** Creates the relationship list, whose options follow the side chosen. */
function relationshipField() {
  const control = field({
    id: 'invite-relationship',
    name: 'relationship',
    tag: 'select',
    label: t('invitations.relationship_label'),
  });
  const select = control.input;
  return {
    control,
    get value() {
      return select.value;
    },
    /** Offers the relationships of `side`, keeping the choice when the side allows it. */
    showSide(side) {
      const choices = RELATIONSHIPS[side] ?? [];
      const selected = choices.includes(select.value) ? select.value : '';
      const prompt = side ? 'relationship_choose' : 'relationship_side_first';
      select.replaceChildren(
        h('option', { value: '', text: t(`invitations.${prompt}`) }),
        ...choices.map((value) => h('option', { value, text: relationshipText(value) })),
      );
      select.value = selected;
    },
  };
}

/** Creates the invitation form. `onInvited(invitation)` runs after the server accepts one. */
function inviteForm(conversationId, ctx, onInvited) {
  const notice = statusRegion();
  const alert = alertRegion();
  const email = field({
    id: 'invite-email',
    name: 'email',
    type: 'email',
    label: t('invitations.email_label'),
    hint: t('invitations.email_hint'),
    attrs: { autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' },
  });
  const name = field({
    id: 'invite-name',
    name: 'display_name',
    label: t('invitations.name_label'),
    hint: t('invitations.name_hint'),
    attrs: { autocomplete: 'off', maxlength: 80 },
  });
  const side = radioGroup({
    id: 'invite-side',
    name: 'side',
    legend: t('invitations.side_legend'),
    choices: Object.keys(RELATIONSHIPS).map((value) => ({
      value,
      label: t(`invitations.side.${value}`),
    })),
  });
  const relationship = relationshipField();
  relationship.showSide(null);
  for (const radio of side.radios) {
    radio.addEventListener('change', () => relationship.showSide(side.value));
  }
  const submit = h('button', { type: 'submit', class: 'button', text: t('invitations.submit') });
  const form = h(
    'form',
    { class: 'form', noValidate: true, attrs: { 'aria-labelledby': 'invite-heading' } },
    email.wrapper,
    name.wrapper,
    side.wrapper,
    relationship.control.wrapper,
    submit,
  );

  const clearErrors = () => {
    clearFieldError(email);
    clearFieldError(name);
    side.clearError();
    clearFieldError(relationship.control);
  };

  // Shows an error next to its field and focuses the field. Returns false
  // for a field this form does not have.
  const showError = (fieldName, text) => {
    if (fieldName === 'email') {
      showFieldError(email, text);
      focusElement(email.input);
    } else if (fieldName === 'display_name') {
      showFieldError(name, text);
      focusElement(name.input);
    } else if (fieldName === 'side') {
      side.showError(text);
      side.focus();
    } else if (fieldName === 'relationship') {
      showFieldError(relationship.control, text);
      focusElement(relationship.control.input);
    } else {
      return false;
    }
    return true;
  };

  // Marks every empty field and focuses the first. Returns whether all were filled in.
  const checkFilledIn = (values) => {
    const missing = [
      ['email', !values.email, 'invitations.email_missing'],
      ['display_name', !values.display_name, 'invitations.name_missing'],
      ['side', !values.side, 'invitations.side_missing'],
      ['relationship', !values.relationship, 'invitations.relationship_missing'],
    ].filter(([, empty]) => empty);
    // Later fields first, so that focus ends on the first empty one.
    for (const [fieldName, , key] of missing.reverse()) showError(fieldName, t(key));
    return missing.length === 0;
  };

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    clearErrors();
    notice.textContent = '';
    alert.textContent = '';
    const values = {
      email: email.input.value.trim(),
      display_name: name.input.value.trim(),
      side: side.value,
      relationship: relationship.value,
    };
    if (!checkFilledIn(values)) return;

    busy = true;
    submit.disabled = true;
    try {
      const invitation = await createInvitation(conversationId, values);
      if (ctx.signal.aborted) return;
      form.reset();
      relationship.showSide(null);
      notice.textContent = t('invitations.sent', { email: invitation.email });
      onInvited(invitation);
    } catch (error) {
      if (ctx.signal.aborted) return;
      const handled =
        error.code === 'request.invalid_field' && showError(error.field, describeError(error));
      if (!handled) {
        // A 409 has three causes, which only its developer message
        // distinguishes, so one sentence names them all.
        alert.textContent =
          error.code === 'resource.conflict' ? t('invitations.conflict') : describeError(error);
        focusElement(alert);
      }
    } finally {
      busy = false;
      submit.disabled = false;
    }
  });

  return h(
    'div',
    { class: 'invitations__form' },
    h('h3', { id: 'invite-heading', text: t('invitations.invite_heading') }),
    h('p', { text: t('invitations.invite_intro') }),
    notice,
    alert,
    form,
  );
}

/**
 * Creates the Invitations area of the contact link `summary`, which only
 * its supervisor may use, and starts loading the list. Returns
 * `{ element, dispose }`.
 */
export function invitationsArea(ctx, summary) {
  const notice = statusRegion();
  const alert = alertRegion();
  const listHeading = h('h3', {
    id: 'invitation-list-heading',
    text: t('invitations.list_heading'),
    attrs: { tabindex: '-1' },
  });
  const list = h('ul', {
    class: 'invitation-list',
    attrs: { 'aria-labelledby': 'invitation-list-heading' },
  });
  const empty = h('p', { class: 'empty', text: t('invitations.empty'), hidden: true });

  let confirming = false;
  async function confirm(invitation, button) {
    if (confirming) return;
    confirming = true;
    button.disabled = true;
    notice.textContent = '';
    alert.textContent = '';
    try {
      await confirmUser(invitation.user_id);
      if (ctx.signal.aborted) return;
      notice.textContent = t('invitations.confirmed', { name: invitation.display_name });
      await load();
      // The button is gone with the list it was in, so focus moves to the list's heading.
      focusElement(listHeading);
    } catch (error) {
      if (ctx.signal.aborted) return;
      alert.textContent = describeError(error);
      button.disabled = false;
      focusElement(button);
    } finally {
      confirming = false;
    }
  }

  async function load() {
    try {
      const invitations = await fetchInvitations(summary.id);
      if (ctx.signal.aborted) return;
      list.replaceChildren(...invitations.map((each) => invitationItem(each, confirm)));
      list.hidden = invitations.length === 0;
      empty.hidden = invitations.length > 0;
    } catch (error) {
      if (!ctx.signal.aborted) alert.textContent = describeError(error);
    }
  }

  const element = h(
    'section',
    { class: 'invitations', attrs: { 'aria-labelledby': 'invitations-heading' } },
    h('h2', { id: 'invitations-heading', text: t('invitations.title') }),
    inviteForm(summary.id, ctx, () => load()),
    h(
      'div',
      { class: 'invitations__list' },
      listHeading,
      notice,
      alert,
      list,
      empty,
    ),
  );

  // An invited person may accept while I am on another page, so the list
  // loads again whenever this page comes back into view.
  const onVisible = () => {
    if (document.visibilityState === 'visible') load();
  };
  document.addEventListener('visibilitychange', onVisible);
  load();

  return {
    element,
    dispose() {
      document.removeEventListener('visibilitychange', onVisible);
    },
  };
}
