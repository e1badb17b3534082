// The "First manager" part of an organisation's card in the admin area. A
// new organisation has nobody to invite its workers, so the platform
// operator invites its first manager here, sees the invitation wait, and
// approves the manager once they have accepted and set up their
// authenticator app. The server allows this only until the organisation
// has had a confirmed worker: the admin list then marks it `founded`, the
// server returns 404 (or 403) for the operator's requests about its
// workers, and the card states that its own managers run it.

import { confirmUser, fetchWorkers, inviteWorker } from '../api.js';
import { focusElement, h } from '../dom.js';
import { formatTime } from '../format.js';
import { t } from '../i18n.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import { inviteForm } from './invite-form.js';

/** Error codes the workers routes return to the operator once an organisation is founded. */
const FOUNDED_CODES = new Set(['resource.not_found', 'request.forbidden']);

/** Creates a button whose accessible name adds `context` to its visible text. */
function buttonWithContext(className, label, context) {
  return h(
    'button',
    { type: 'button', class: className },
    label,
    h('span', { class: 'visually-hidden', text: ` ${context}` }),
  );
}

function invitationLine(invitation) {
  const params = { name: invitation.display_name, email: invitation.email };
  if (invitation.status === 'waiting') {
    const time = formatTime(invitation.expires_at);
    return h('p', { text: t('first_manager.waiting', { ...params, time }) });
  }
  return h('p', { text: t('first_manager.expired', params) });
}

/**
 * Creates the First manager part of the card of `organisation`, from the
 * admin list. Returns `{ element, load() }`, and `load()` reads the
 * organisation's workers and invitations again.
 */
export function firstManagerArea(ctx, organisation) {
  const idBase = `organisation-${organisation.id}-manager`;
  const heading = h('h4', {
    id: `${idBase}-heading`,
    class: 'first-manager__title',
    text: t('first_manager.title'),
    attrs: { tabindex: '-1' },
  });
  const loading = statusRegion();
  const notice = statusRegion();
  const alert = alertRegion();
  const body = h('div', {});
  let busy = false;

  /** Shows `doneText`, reads the workers again and moves focus to the heading. */
  async function done(doneText) {
    notice.textContent = doneText;
    await load();
    focusElement(heading);
  }

  function approveBlock(worker) {
    const hintId = `${idBase}-approve-${worker.user_id}-hint`;
    const button = buttonWithContext(
      'button',
      t('first_manager.approve'),
      t('first_manager.approve_context', { name: worker.display_name }),
    );
    button.setAttribute('aria-describedby', hintId);
    button.addEventListener('click', async () => {
      if (busy) return;
      busy = true;
      button.disabled = true;
      notice.textContent = '';
      alert.textContent = '';
      try {
        await confirmUser(worker.user_id);
        if (ctx.signal.aborted) return;
        const params = { name: worker.display_name, organisation: organisation.name };
        await done(t('first_manager.approved', params));
      } catch (error) {
        if (ctx.signal.aborted) return;
        alert.textContent = describeError(error);
        button.disabled = false;
        focusElement(button);
      } finally {
        busy = false;
      }
    });
    return h(
      'div',
      { class: 'worker-card__actions' },
      h('p', {
        text: t('first_manager.pending', { name: worker.display_name, email: worker.email }),
      }),
      h('p', {
        id: hintId,
        class: 'field__hint',
        text: t('first_manager.approve_hint', { organisation: organisation.name }),
      }),
      button,
    );
  }

  /** Creates the button that opens the invitation form in its place. */
  function inviteBlock() {
    const formHeadingId = `${idBase}-invite-heading`;
    const openButton = buttonWithContext(
      'button button--secondary',
      t('first_manager.invite'),
      organisation.name,
    );
    const form = inviteForm({
      idPrefix: `${idBase}-invite`,
      labelledBy: formHeadingId,
      signal: ctx.signal,
      labels: {
        email: t('first_manager.email_label'),
        emailHint: t('first_manager.email_hint'),
        name: t('first_manager.name_label'),
        nameHint: t('first_manager.name_hint'),
        submit: t('first_manager.submit'),
        conflict: t('first_manager.conflict'),
      },
      send: async (values) => {
        notice.textContent = '';
        alert.textContent = '';
        const invitation = await inviteWorker(organisation.id, { ...values, role: 'manager' });
        if (ctx.signal.aborted) return;
        await done(t('first_manager.sent', { email: invitation.email }));
      },
      onCancel: () => {
        formPart.hidden = true;
        openButton.hidden = false;
        focusElement(openButton);
      },
    });
    const formPart = h(
      'div',
      { class: 'first-manager__form', hidden: true },
      h('p', {
        id: formHeadingId,
        class: 'field__label',
        text: t('first_manager.invite_heading', { organisation: organisation.name }),
      }),
      h('p', { class: 'field__hint', text: t('first_manager.invite_intro') }),
      form.element,
    );
    openButton.addEventListener('click', () => {
      openButton.hidden = true;
      formPart.hidden = false;
      form.focus();
    });
    return h('div', { class: 'worker-card__actions' }, openButton, formPart);
  }

  function showFounded() {
    body.replaceChildren(
      h('p', { text: t('first_manager.founded', { organisation: organisation.name }) }),
    );
  }

  function showWorkers({ workers = [], invitations = [] }) {
    // A confirmed worker means the organisation is founded, even though
    // the server still listed its workers.
    if (workers.some((worker) => worker.status !== 'pending')) {
      showFounded();
      return;
    }
    const pending = workers.filter((worker) => worker.role === 'manager');
    const waiting = invitations.filter((invitation) => invitation.status === 'waiting');
    const expired = invitations.filter((invitation) => invitation.status === 'expired');
    const parts = [];
    if (pending.length === 0 && waiting.length === 0) {
      parts.push(h('p', { text: t('first_manager.none', { organisation: organisation.name }) }));
    }
    parts.push(...waiting.map(invitationLine), ...expired.map(invitationLine));
    parts.push(...pending.map(approveBlock));
    if (pending.length === 0 && waiting.length === 0) parts.push(inviteBlock());
    body.replaceChildren(...parts);
  }

  async function load() {
    // The admin list marks the organisations their own managers run, so
    // only the others are asked for their workers.
    if (organisation.founded) {
      showFounded();
      return;
    }
    loading.textContent = t('app.loading');
    try {
      const listed = await fetchWorkers(organisation.id);
      if (ctx.signal.aborted) return;
      showWorkers(listed);
    } catch (error) {
      if (ctx.signal.aborted) return;
      if (FOUNDED_CODES.has(error.code)) showFounded();
      else alert.textContent = describeError(error);
    } finally {
      if (!ctx.signal.aborted) loading.textContent = '';
    }
  }

  const element = h(
    'div',
    {
      class: 'first-manager',
      attrs: { role: 'group', 'aria-labelledby': heading.id },
    },
    heading,
    loading,
    notice,
    alert,
    body,
  );
  return { element, load };
}
