// One recovery on the "Account recovery" page: whose account, why, its
// state and which admins took part, with the step that comes next. A
// platform admin other than the one who requested it approves it, and any
// platform admin cancels an open one after a confirmation. Once approved,
// the card shows the command the operator runs where the recovery private
// key is kept, with the recovery's id filled in.

import { approveKeyRecovery, cancelKeyRecovery } from '../api.js';
import { focusElement, h } from '../dom.js';
import { formatTime } from '../format.js';
import { t } from '../i18n.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import { copyButton } from './copy-button.js';

/** The states the server names, each with a text of its own. */
const STATES = new Set(['requested', 'approved', 'link_sent', 'completed', 'cancelled', 'expired']);
/** States of a recovery that can still go on, and so can be cancelled. */
const OPEN_STATES = new Set(['requested', 'approved', 'link_sent']);
/**
 * States in which the operator's command sends a link: the first one, or
 * a new one that replaces the link sent.
 */
const LINK_STATES = new Set(['approved', 'link_sent']);
/** States that end a recovery, each with a line that gives the time it ended. */
const ENDED_STATES = new Set(['completed', 'cancelled', 'expired']);
/** Error codes of an approval or a cancellation that found the recovery changed or gone. */
const CHANGED_CODES = new Set(['resource.conflict', 'resource.not_found']);

/**
 * Returns the command that sends the link of recovery `recoveryId`.
 * `FILE` is a placeholder for the path of the recovery private key file,
 * which only the operator has.
 */
export function sendLinkCommand(recoveryId) {
  return `kinlink recovery send-link --request ${recoveryId} --private-key FILE`;
}

/** Creates a button whose accessible name adds `context` to its visible text. */
function buttonWithContext(className, label, context) {
  return h(
    'button',
    { type: 'button', class: className },
    label,
    h('span', { class: 'visually-hidden', text: ` ${context}` }),
  );
}

function stateBadge(state) {
  const known = STATES.has(state) ? state : 'unknown';
  return h('span', {
    class: `badge badge--recovery-${known}`,
    text: t(`key_recoveries.state.${known}`),
  });
}

/**
 * Returns the line that names the admin who took a step (`requested` or
 * `approved`) and its time, with me as "you".
 */
function adminLine(step, adminId, adminName, time, myId) {
  const when = formatTime(time);
  if (adminId === myId) return t(`key_recoveries.${step}_by_you`, { time: when });
  return t(`key_recoveries.${step}_by_other`, { name: adminName, time: when });
}

/** Creates the lines of a recovery's facts: its account, reason, state and steps. */
function details(recovery, myId) {
  const meta = (text) => h('p', { class: 'worker-card__meta', text });
  const lines = [
    meta(recovery.email),
    h('p', { class: 'worker-card__meta' }, stateBadge(recovery.state)),
    h('p', {
      class: 'key-recovery__reason',
      text: t('key_recoveries.reason', { reason: recovery.reason }),
    }),
    meta(
      adminLine(
        'requested',
        recovery.requested_by,
        recovery.requested_by_name,
        recovery.requested_at,
        myId,
      ),
    ),
  ];
  if (recovery.approved_by) {
    const line = adminLine(
      'approved',
      recovery.approved_by,
      recovery.approved_by_name,
      recovery.approved_at,
      myId,
    );
    lines.push(meta(line));
  }
  if (recovery.link_sent_at) {
    lines.push(meta(t('key_recoveries.link_sent', { time: formatTime(recovery.link_sent_at) })));
  }
  if (recovery.state === 'link_sent' && recovery.link_expires_at) {
    const time = formatTime(recovery.link_expires_at);
    lines.push(meta(t('key_recoveries.link_works_until', { time })));
  }
  if (ENDED_STATES.has(recovery.state) && recovery.ended_at) {
    const time = formatTime(recovery.ended_at);
    lines.push(meta(t(`key_recoveries.ended.${recovery.state}`, { time })));
  }
  return lines;
}

/** Creates the command the operator runs next, with a button that copies it. */
function commandBlock(recovery) {
  const command = sendLinkCommand(recovery.id);
  const commandText = h('code', { text: command });
  const copyStatus = statusRegion();
  const copy = copyButton({
    label: t('key_recoveries.command_copy'),
    text: () => command,
    source: commandText,
    status: copyStatus,
    copiedKey: 'key_recoveries.command_copied',
    failedKey: 'key_recoveries.command_copy_failed',
  });
  const introKey =
    recovery.state === 'approved' ? 'key_recoveries.command_intro' : 'key_recoveries.command_again';
  return h(
    'div',
    { class: 'worker-card__actions key-recovery__command' },
    h('p', { text: t(introKey) }),
    h('pre', { class: 'command-line' }, commandText),
    h('p', { class: 'field__hint', text: t('key_recoveries.command_file') }),
    h('div', { class: 'actions' }, copy),
    copyStatus,
  );
}

/**
 * Creates the card of `recovery`, from the admins' list. `onChanged(id,
 * message)` runs after an approval or a cancellation, or when the server
 * found the recovery changed meanwhile. It reads the list again, shows
 * `message` (`{ notice }` or `{ alert }`) and focuses the card of `id`.
 * Returns `{ element, heading }`.
 */
export function keyRecoveryCard(ctx, recovery, onChanged) {
  const myId = ctx.user?.id;
  const name = recovery.display_name;
  const context = t('key_recoveries.button_context', { name });
  const idBase = `recovery-${recovery.id}`;
  const heading = h('h3', { class: 'worker-card__title', text: name, attrs: { tabindex: '-1' } });
  const alert = alertRegion();
  let busy = false;

  /**
   * Sends one approval or cancellation with `send()`. A rejection that
   * leaves the recovery as it was shows on the card, and `button` gets the
   * focus back.
   */
  async function act(button, send, doneText) {
    if (busy) return;
    busy = true;
    button.disabled = true;
    alert.textContent = '';
    try {
      await send();
      if (ctx.signal.aborted) return;
      await onChanged(recovery.id, { notice: doneText });
    } catch (error) {
      if (ctx.signal.aborted) return;
      if (CHANGED_CODES.has(error.code)) {
        await onChanged(recovery.id, { alert: t('key_recoveries.changed', { name }) });
        return;
      }
      alert.textContent = describeError(error);
      button.disabled = false;
      focusElement(button);
    } finally {
      busy = false;
    }
  }

  function approveBlock() {
    // The server rejects these approvals too, and emails the account's owner.
    if (recovery.requested_by === myId) {
      return h('p', { class: 'worker-card__actions', text: t('key_recoveries.wait_other_admin') });
    }
    if (recovery.user_id === myId) {
      return h('p', { class: 'worker-card__actions', text: t('key_recoveries.wait_own_account') });
    }
    const hintId = `${idBase}-approve-hint`;
    const button = buttonWithContext('button', t('key_recoveries.approve'), context);
    button.setAttribute('aria-describedby', hintId);
    button.addEventListener('click', () =>
      act(
        button,
        () => approveKeyRecovery(recovery.id),
        t('key_recoveries.approved_notice', { name }),
      ),
    );
    return h(
      'div',
      { class: 'worker-card__actions' },
      h('p', { id: hintId, class: 'field__hint', text: t('key_recoveries.approve_hint') }),
      button,
    );
  }

  function cancelBlock() {
    const confirmHeading = h('h4', {
      id: `${idBase}-cancel-heading`,
      text: t('key_recoveries.cancel_title', { name }),
      attrs: { tabindex: '-1' },
    });
    const openButton = buttonWithContext(
      'button button--secondary',
      t('key_recoveries.cancel'),
      context,
    );
    const confirmButton = h('button', {
      type: 'button',
      class: 'button button--danger',
      text: t('key_recoveries.cancel_confirm'),
    });
    const keepButton = h('button', {
      type: 'button',
      class: 'button button--secondary',
      text: t('key_recoveries.cancel_keep'),
    });
    const confirmation = h(
      'div',
      {
        class: 'callout callout--important worker-card__confirm',
        hidden: true,
        attrs: { role: 'group', 'aria-labelledby': confirmHeading.id },
      },
      confirmHeading,
      h('p', { text: t('key_recoveries.cancel_body') }),
      h('div', { class: 'actions' }, confirmButton, keepButton),
    );
    openButton.addEventListener('click', () => {
      openButton.hidden = true;
      confirmation.hidden = false;
      focusElement(confirmHeading);
    });
    keepButton.addEventListener('click', () => {
      confirmation.hidden = true;
      openButton.hidden = false;
      focusElement(openButton);
    });
    confirmButton.addEventListener('click', () =>
      act(
        confirmButton,
        () => cancelKeyRecovery(recovery.id),
        t('key_recoveries.cancelled_notice', { name }),
      ),
    );
    return h('div', { class: 'worker-card__actions' }, openButton, confirmation);
  }

  const parts = [heading, ...details(recovery, myId), alert];
  if (recovery.state === 'requested') parts.push(approveBlock());
  if (LINK_STATES.has(recovery.state)) parts.push(commandBlock(recovery));
  if (OPEN_STATES.has(recovery.state)) parts.push(cancelBlock());
  const element = h(
    'li',
    { class: 'worker-card key-recovery', dataset: { recoveryId: recovery.id } },
    parts,
  );
  return { element, heading };
}
