// "Workers", for managers: the managers and practitioners of my
// organisation with their role and status, a form that invites a new
// worker by email, and the invitations sent so far. An invited worker
// chooses a password and sets up an authenticator app, and their account
// then waits until a manager approves it here. A manager can also disable
// the account of anyone else who works here, which ends all their
// sessions, once they have confirmed it on the page.

import { confirmUser, disableUser, fetchWorkers, inviteWorker } from '../api.js';
import { focusElement, h } from '../dom.js';
import { formatTime } from '../format.js';
import { t } from '../i18n.js';
import { alertRegion, describeError, pageHeading, statusRegion } from './common.js';
import { clearFieldError, field, radioGroup, showFieldError } from './fields.js';

/** The roles a worker can be invited to, in the order the form offers them. */
const ROLES = ['practitioner', 'manager'];
const WORKER_STATUSES = new Set(['pending', 'active', 'disabled']);
const INVITATION_STATUSES = new Set(['waiting', 'accepted', 'expired']);

function roleText(role) {
  return t(ROLES.includes(role) ? `workers.role.${role}` : 'workers.role.unknown');
}

function knownOr(set, value) {
  return set.has(value) ? value : 'unknown';
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
 * Creates the Disable button of a worker and the confirmation it opens in
 * place, which `actions.disable(worker, button)` follows.
 */
function disableBlock(worker, actions) {
  const idBase = `worker-${worker.user_id}`;
  const context = t('workers.disable_context', { name: worker.display_name });
  const confirmHeading = h('h4', {
    id: `${idBase}-disable-heading`,
    text: t('workers.disable_confirm_title', { name: worker.display_name }),
    attrs: { tabindex: '-1' },
  });
  const openButton = buttonWithContext(
    'button button--danger',
    t('workers.disable'),
    context,
    () => {
      openButton.hidden = true;
      confirmation.hidden = false;
      focusElement(confirmHeading);
    },
  );
  const confirmButton = h('button', {
    type: 'button',
    class: 'button button--danger',
    text: t('workers.disable_confirm'),
    on: { click: () => actions.disable(worker, confirmButton) },
  });
  const cancelButton = h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: t('workers.disable_cancel'),
    on: {
      click: () => {
        confirmation.hidden = true;
        openButton.hidden = false;
        focusElement(openButton);
      },
    },
  });
  const confirmation = h(
    'div',
    {
      class: 'callout callout--important worker-card__confirm',
      hidden: true,
      attrs: { role: 'group', 'aria-labelledby': confirmHeading.id },
    },
    confirmHeading,
    h('p', { text: t('workers.disable_confirm_body', { name: worker.display_name }) }),
    h('div', { class: 'actions' }, confirmButton, cancelButton),
  );
  return h('div', { class: 'worker-card__actions' }, openButton, confirmation);
}

/** Creates the explanation and the button that approve a pending worker's account. */
function approveBlock(worker, actions) {
  const hintId = `worker-${worker.user_id}-approve-hint`;
  const button = buttonWithContext(
    'button',
    t('workers.approve'),
    t('workers.approve_context', { name: worker.display_name }),
    () => actions.approve(worker, button),
  );
  button.setAttribute('aria-describedby', hintId);
  return h(
    'div',
    { class: 'worker-card__actions' },
    h('p', { id: hintId, text: t('workers.approve_hint') }),
    button,
  );
}

function workerItem(worker, myUserId, actions) {
  const status = knownOr(WORKER_STATUSES, worker.status);
  const isMe = worker.user_id === myUserId;
  let footer = null;
  if (status === 'pending') footer = approveBlock(worker, actions);
  else if (status === 'active' && !isMe) footer = disableBlock(worker, actions);
  return h(
    'li',
    { class: 'worker-card', dataset: { userId: worker.user_id, status } },
    h('h3', {
      class: 'worker-card__title',
      text: isMe ? t('workers.name_you', { name: worker.display_name }) : worker.display_name,
    }),
    h('p', { class: 'worker-card__meta', text: worker.email }),
    h(
      'p',
      { class: 'worker-card__meta' },
      h('span', { class: 'badge', text: roleText(worker.role) }),
      ' ',
      h('span', { class: `badge badge--worker-${status}`, text: t(`workers.status.${status}`) }),
    ),
    footer,
  );
}

/** Creates the lines under an invitation about its link or what happens next. */
function invitationHint(invitation, pendingIds) {
  let text = null;
  if (invitation.status === 'waiting') {
    text = t('workers.works_until', { time: formatTime(invitation.expires_at) });
  } else if (invitation.status === 'expired') {
    text = t('workers.expired_hint');
  } else if (invitation.status === 'accepted' && pendingIds.has(invitation.user_id)) {
    text = t('workers.accepted_hint');
  }
  return text ? h('p', { class: 'worker-card__meta', text }) : null;
}

function invitationItem(invitation, pendingIds) {
  const status = knownOr(INVITATION_STATUSES, invitation.status);
  return h(
    'li',
    { class: 'worker-card', dataset: { invitationId: invitation.id, status } },
    h('h3', { class: 'worker-card__title', text: invitation.display_name }),
    h('p', { class: 'worker-card__meta', text: invitation.email }),
    h(
      'p',
      { class: 'worker-card__meta' },
      h('span', { class: 'badge', text: roleText(invitation.role) }),
      ' ',
      h('span', {
        class: `badge badge--worker-invitation-${status}`,
        text: t(`workers.invitation_status.${status}`),
      }),
      ' ',
      h('span', { text: t('workers.invited', { time: formatTime(invitation.created_at) }) }),
    ),
    invitationHint(invitation, pendingIds),
  );
}

/**
 * Creates the invitation form of organisation `organisationId`.
 * `onInvited(invitation)` runs after the server accepts one. What was typed
 * stays in the form until an invitation is sent.
 */
function inviteSection(organisationId, ctx, onInvited) {
  const notice = statusRegion();
  const alert = alertRegion();
  const email = field({
    id: 'worker-invite-email',
    name: 'email',
    type: 'email',
    label: t('workers.email_label'),
    hint: t('workers.email_hint'),
    attrs: { autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' },
  });
  const name = field({
    id: 'worker-invite-name',
    name: 'display_name',
    label: t('workers.name_label'),
    hint: t('workers.name_hint'),
    attrs: { autocomplete: 'off', maxlength: 80 },
  });
  const role = radioGroup({
    id: 'worker-invite-role',
    name: 'role',
    legend: t('workers.role_legend'),
    choices: ROLES.map((value) => ({ value, label: t(`workers.role_choice.${value}`) })),
  });
  const submit = h('button', { type: 'submit', class: 'button', text: t('workers.submit') });
  const form = h(
    'form',
    { class: 'form', noValidate: true, attrs: { 'aria-labelledby': 'worker-invite-heading' } },
    email.wrapper,
    name.wrapper,
    role.wrapper,
    submit,
  );

  // Shows an error next to its field and focuses the field. Returns false
  // for a field this form does not have.
  const showError = (fieldName, text) => {
    if (fieldName === 'email') {
      showFieldError(email, text);
      focusElement(email.input);
    } else if (fieldName === 'display_name') {
      showFieldError(name, text);
      focusElement(name.input);
    } else if (fieldName === 'role') {
      role.showError(text);
      role.focus();
    } else {
      return false;
    }
    return true;
  };

  // Marks every empty field and focuses the first. Returns whether all were filled in.
  const checkFilledIn = (values) => {
    const missing = [
      ['email', !values.email, 'workers.email_missing'],
      ['display_name', !values.display_name, 'workers.name_missing'],
      ['role', !values.role, 'workers.role_missing'],
    ].filter(([, empty]) => empty);
    // Later fields first, so that focus ends on the first empty one.
    for (const [fieldName, , key] of missing.reverse()) showError(fieldName, t(key));
    return missing.length === 0;
  };

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    clearFieldError(email);
    clearFieldError(name);
    role.clearError();
    notice.textContent = '';
    alert.textContent = '';
    const values = {
      email: email.input.value.trim(),
      display_name: name.input.value.trim(),
      role: role.value,
    };
    if (!checkFilledIn(values)) return;

    busy = true;
    submit.disabled = true;
    try {
      const invitation = await inviteWorker(organisationId, values);
      if (ctx.signal.aborted) return;
      form.reset();
      notice.textContent = t('workers.sent', { email: invitation.email });
      onInvited(invitation);
    } catch (error) {
      if (ctx.signal.aborted) return;
      const handled =
        error.code === 'request.invalid_field' && showError(error.field, describeError(error));
      if (!handled) {
        // A 409 has two causes, which only its developer message
        // distinguishes, so one sentence names both.
        alert.textContent =
          error.code === 'resource.conflict' ? t('workers.conflict') : describeError(error);
        focusElement(alert);
      }
    } finally {
      busy = false;
      submit.disabled = false;
    }
  });

  return h(
    'section',
    { class: 'workers__section', attrs: { 'aria-labelledby': 'worker-invite-heading' } },
    h('h2', { id: 'worker-invite-heading', text: t('workers.invite_heading') }),
    h('p', { text: t('workers.invite_intro') }),
    notice,
    alert,
    form,
  );
}

export async function mount(main, ctx) {
  ctx.setTitle(t('workers.title'));
  const panel = h('section', { class: 'panel workers' }, pageHeading(t('workers.title')));
  main.append(panel);

  const organisationId = ctx.user.organisation_id;
  if (!(ctx.user.roles ?? []).includes('manager') || !organisationId) {
    panel.append(h('p', { text: t('workers.not_manager') }));
    return;
  }

  const notice = statusRegion();
  const alert = alertRegion();
  const listHeading = h('h2', {
    id: 'workers-list-heading',
    text: t('workers.list_heading'),
    attrs: { tabindex: '-1' },
  });
  const workerList = h('ul', {
    class: 'worker-list',
    attrs: { 'aria-labelledby': listHeading.id },
  });
  const invitationsHeading = h('h2', {
    id: 'worker-invitations-heading',
    text: t('workers.invitations_heading'),
  });
  const invitationList = h('ul', {
    class: 'worker-list',
    attrs: { 'aria-labelledby': invitationsHeading.id },
  });

  let busy = false;
  /** Sends one approve or disable request, shows its outcome and loads the lists again. */
  async function act(request, doneText, button) {
    if (busy) return;
    busy = true;
    button.disabled = true;
    notice.textContent = '';
    alert.textContent = '';
    try {
      await request();
      if (ctx.signal.aborted) return;
      notice.textContent = doneText;
      await load();
      // The button is gone with the list it was in, so focus moves to the list's heading.
      focusElement(listHeading);
    } catch (error) {
      if (ctx.signal.aborted) return;
      alert.textContent = describeError(error);
      button.disabled = false;
      focusElement(button);
    } finally {
      busy = false;
    }
  }

  const actions = {
    approve: (worker, button) =>
      act(
        () => confirmUser(worker.user_id),
        t('workers.approved', { name: worker.display_name }),
        button,
      ),
    disable: (worker, button) =>
      act(
        () => disableUser(worker.user_id),
        t('workers.disabled', { name: worker.display_name }),
        button,
      ),
  };

  const loading = statusRegion();
  async function load() {
    loading.textContent = t('app.loading');
    try {
      const { workers = [], invitations = [] } = await fetchWorkers(organisationId);
      if (ctx.signal.aborted) return;
      const pendingIds = new Set(
        workers.filter((worker) => worker.status === 'pending').map((worker) => worker.user_id),
      );
      workerList.replaceChildren(
        ...workers.map((worker) => workerItem(worker, ctx.user.id, actions)),
      );
      if (workers.length === 0) {
        workerList.append(h('li', { class: 'empty', text: t('workers.empty') }));
      }
      invitationList.replaceChildren(
        ...invitations.map((invitation) => invitationItem(invitation, pendingIds)),
      );
      if (invitations.length === 0) {
        invitationList.append(h('li', { class: 'empty', text: t('workers.invitations_empty') }));
      }
    } catch (error) {
      if (!ctx.signal.aborted) alert.textContent = describeError(error);
    } finally {
      if (!ctx.signal.aborted) loading.textContent = '';
    }
  }

  panel.append(
    h('p', { text: t('workers.intro') }),
    h(
      'section',
      { class: 'workers__section', attrs: { 'aria-labelledby': listHeading.id } },
      listHeading,
      loading,
      notice,
      alert,
      workerList,
    ),
    inviteSection(organisationId, ctx, () => load()),
    h(
      'section',
      { class: 'workers__section', attrs: { 'aria-labelledby': invitationsHeading.id } },
      invitationsHeading,
      invitationList,
    ),
  );

  // An invited worker may accept while I am on another page, so the lists
  // load again whenever this page comes back into view.
  const onVisible = () => {
    if (document.visibilityState === 'visible') load();
  };
  document.addEventListener('visibilitychange', onVisible);
  ctx.onCleanup(() => document.removeEventListener('visibilitychange', onVisible));
  await load();
}
