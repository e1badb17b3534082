// The "Family's own access" area of a family case, for the workers of the
// organisation that owns it. It shows whether the family keeps the profile
// itself, from the case's `family_account`. With no access or an expired
// invitation, a form invites the family by email. Once the family has
// accepted, the practitioner who invited them confirms the account here.
// The family's access can be removed after a confirmation, and their
// account stays for anything else they take part in.

import { confirmUser, inviteFamily, removeFamilyAccount } from '../api.js';
import { focusElement, h } from '../dom.js';
import { formatTime } from '../format.js';
import { t } from '../i18n.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import { inviteForm } from './invite-form.js';

const STATES = new Set(['none', 'invited', 'expired', 'pending', 'active', 'disabled']);
/** States in which the family can be invited (again). */
const INVITABLE = new Set(['none', 'expired']);
/** States in which an account is linked to the case, so that its access can be removed. */
const LINKED = new Set(['pending', 'active', 'disabled']);

/** Returns the sentence that describes `account`, a case's `family_account`. */
function stateText(account) {
  const state = STATES.has(account.state) ? account.state : 'unknown';
  return t(`family_account.state.${state}`, {
    name: account.display_name ?? '',
    email: account.email ?? '',
    time: account.expires_at ? formatTime(account.expires_at) : '',
  });
}

function stateBadge(account) {
  const state = STATES.has(account.state) ? account.state : 'unknown';
  return h('span', {
    class: `badge badge--family-account-${state}`,
    text: t(`family_account.status.${state}`),
  });
}

/**
 * Creates the Family's own access area of `loaded`, a family case of my
 * organisation. Returns `{ element }`.
 */
export function familyAccountArea(ctx, loaded) {
  const headingId = 'family-account-heading';
  const heading = h('h2', {
    id: headingId,
    text: t('family_account.title'),
    attrs: { tabindex: '-1' },
  });
  const notice = statusRegion();
  const alert = alertRegion();
  const body = h('div', { class: 'family-account' });
  const organisation = loaded.organisation?.name ?? '';
  let account = loaded.family_account ?? { state: 'none' };
  let busy = false;

  /** Shows `updated` in place of the account shown, and moves focus to the heading. */
  function replaceAccount(updated, doneText) {
    account = updated;
    render();
    notice.textContent = doneText;
    focusElement(heading);
  }

  /**
   * Sends one confirm or remove request with `send()` and runs `onDone()`
   * after it. A `404` runs `onNotFound()` when given, and a `403` shows
   * `forbiddenText` when given. Other failures show in the alert, and focus
   * returns to `button`.
   */
  async function act(button, { send, onDone, onNotFound, forbiddenText }) {
    if (busy) return;
    busy = true;
    button.disabled = true;
    notice.textContent = '';
    alert.textContent = '';
    try {
      await send();
      if (ctx.signal.aborted) return;
      onDone();
    } catch (error) {
      if (ctx.signal.aborted) return;
      if (error.code === 'resource.not_found' && onNotFound) {
        onNotFound();
        return;
      }
      alert.textContent =
        error.code === 'request.forbidden' && forbiddenText ? forbiddenText : describeError(error);
      button.disabled = false;
      focusElement(button);
    } finally {
      busy = false;
    }
  }

  function invitation() {
    const form = inviteForm({
      idPrefix: 'family-invite',
      labelledBy: 'family-invite-heading',
      signal: ctx.signal,
      labels: {
        email: t('family_account.email_label'),
        emailHint: t('family_account.email_hint'),
        name: t('family_account.name_label'),
        nameHint: t('family_account.name_hint'),
        submit: t('family_account.invite_submit'),
        conflict: t('family_account.conflict'),
      },
      send: async (values) => {
        notice.textContent = '';
        alert.textContent = '';
        const invited = await inviteFamily(loaded.id, values);
        if (ctx.signal.aborted) return;
        const email = invited.email ?? values.email;
        replaceAccount(invited, t('family_account.invited', { email }));
      },
    });
    // A lapsed invitation is sent again to the same family, unless changed.
    if (account.state === 'expired') form.fill(account);
    return h(
      'div',
      { class: 'family-account__invite' },
      h('h3', { id: 'family-invite-heading', text: t('family_account.invite_heading') }),
      h('p', { text: t('family_account.invite_intro') }),
      form.element,
    );
  }

  function confirmBlock() {
    const hintId = 'family-account-confirm-hint';
    const button = h('button', {
      type: 'button',
      class: 'button',
      text: t('family_account.confirm'),
      attrs: { 'aria-describedby': hintId },
    });
    button.addEventListener('click', () =>
      act(button, {
        send: () => confirmUser(account.user_id),
        onDone: () =>
          replaceAccount(
            { ...account, state: 'active' },
            t('family_account.confirmed', { name: account.display_name ?? '' }),
          ),
        // The server lets only the worker who sent the invitation confirm it.
        forbiddenText: t('family_account.confirm_forbidden'),
      }),
    );
    return h(
      'div',
      { class: 'actions actions--stacked' },
      h('p', { id: hintId, text: t('family_account.confirm_hint') }),
      button,
    );
  }

  function removeBlock() {
    const name = account.display_name ?? '';
    const confirmHeading = h('h3', {
      id: 'family-account-remove-heading',
      text: t('family_account.remove_title'),
      attrs: { tabindex: '-1' },
    });
    const openButton = h('button', {
      type: 'button',
      class: 'button button--danger',
      text: t('family_account.remove'),
      on: {
        click: () => {
          openButton.hidden = true;
          confirmation.hidden = false;
          focusElement(confirmHeading);
        },
      },
    });
    const confirmButton = h('button', {
      type: 'button',
      class: 'button button--danger',
      text: t('family_account.remove_confirm'),
    });
    confirmButton.addEventListener('click', () =>
      act(confirmButton, {
        send: () => removeFamilyAccount(loaded.id),
        onDone: () => replaceAccount({ state: 'none' }, t('family_account.removed', { name })),
        // Another worker removed the access first.
        onNotFound: () => replaceAccount({ state: 'none' }, t('family_account.removed_already')),
      }),
    );
    const cancelButton = h('button', {
      type: 'button',
      class: 'button button--secondary',
      text: t('family_account.remove_cancel'),
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
        class: 'callout callout--important family-account__confirm',
        hidden: true,
        attrs: { role: 'group', 'aria-labelledby': confirmHeading.id },
      },
      confirmHeading,
      h('p', { text: t('family_account.remove_body', { name }) }),
      h('div', { class: 'actions' }, confirmButton, cancelButton),
    );
    return h('div', { class: 'family-account__remove' }, openButton, confirmation);
  }

  function render() {
    const parts = [
      h('p', { class: 'family-account__state' }, stateBadge(account), ' ', stateText(account)),
    ];
    if (account.state === 'pending' && account.user_id) parts.push(confirmBlock());
    if (LINKED.has(account.state)) parts.push(removeBlock());
    if (INVITABLE.has(account.state)) parts.push(invitation());
    body.replaceChildren(...parts);
  }

  render();
  const element = h(
    'section',
    { class: 'ff-section', attrs: { 'aria-labelledby': headingId } },
    heading,
    h('p', { text: t('family_account.intro', { organisation }) }),
    notice,
    alert,
    body,
  );
  return { element };
}
