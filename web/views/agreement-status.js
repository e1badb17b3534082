// The status part of a contact link's agreement page: whether the link is
// active, suspended or ended, with the reason the families see, and the
// buttons that suspend it, make it active again or end it. Suspending and
// ending need a reason. Ending is final, so it asks for confirmation first.

import { setAgreementStatus } from '../api.js';
import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import { clearFieldError, field, showFieldError } from './fields.js';

const STATUSES = new Set(['active', 'suspended', 'ended']);

/** The server's limit on a reason, in characters. */
const REASON_MAX_CHARS = 1000;

/** The changes each status allows, in the order their buttons appear. */
const CHANGES = {
  active: ['suspended', 'ended'],
  suspended: ['active', 'ended'],
  ended: [],
};

const BUTTON_CLASSES = {
  active: 'button',
  suspended: 'button button--secondary',
  ended: 'button button--danger',
};

function statusLine(agreement) {
  const status = STATUSES.has(agreement.status) ? agreement.status : 'unknown';
  return h(
    'div',
    { class: 'agreement-status__now' },
    h(
      'p',
      {},
      h('span', {
        class: `badge badge--link-${status}`,
        text: t(`agreement_page.status.${status}`),
      }),
      ' ',
      h('span', { text: t(`agreement_page.status_meaning.${status}`) }),
    ),
    agreement.status_reason
      ? h('p', { text: t('agreement.reason', { reason: agreement.status_reason }) })
      : null,
  );
}

/**
 * Creates the status section of the link `conversationId`. `onChanged(agreement)`
 * runs with the agreement the server returns after a change, and
 * `onConflict()` when the link changed meanwhile. Returns `{ element,
 * show(agreement, message) }`; `show` draws the status and its buttons,
 * with `message` in the status region when given.
 */
export function statusSection(ctx, conversationId, { onChanged, onConflict }) {
  const heading = h('h2', {
    id: 'agreement-status-heading',
    text: t('agreement_page.status_heading'),
    attrs: { tabindex: '-1' },
  });
  const notice = statusRegion();
  const alert = alertRegion();
  const body = h('div');
  const element = h(
    'section',
    { class: 'agreement-status', attrs: { 'aria-labelledby': heading.id } },
    heading,
    notice,
    alert,
    body,
  );

  function changeForm(agreement) {
    const reason = field({
      id: 'status-reason',
      name: 'reason',
      tag: 'textarea',
      label: t('agreement_page.reason_label'),
      hint: t('agreement_page.reason_hint'),
      attrs: { maxlength: REASON_MAX_CHARS },
    });
    reason.input.rows = 3;
    const buttons = CHANGES[agreement.status] ?? [];
    const actionButtons = buttons.map((status) =>
      h('button', {
        type: 'button',
        class: BUTTON_CLASSES[status],
        text: t(`agreement_page.change.${status}`),
        on: { click: () => change(status) },
      }),
    );
    const actions = h('div', { class: 'actions' }, actionButtons);
    const confirmHeading = h('h3', {
      id: 'end-confirm-heading',
      text: t('agreement_page.end_confirm_title'),
      attrs: { tabindex: '-1' },
    });
    const confirmButton = h('button', {
      type: 'button',
      class: 'button button--danger',
      text: t('agreement_page.end_confirm'),
      on: { click: () => send('ended') },
    });
    const cancelButton = h('button', {
      type: 'button',
      class: 'button button--secondary',
      text: t('agreement_page.end_cancel'),
      on: { click: () => closeConfirmation() },
    });
    const confirmation = h(
      'div',
      {
        class: 'callout callout--important agreement-status__confirm',
        hidden: true,
        attrs: { role: 'group', 'aria-labelledby': confirmHeading.id },
      },
      confirmHeading,
      h('p', { text: t('agreement_page.end_confirm_body') }),
      h('div', { class: 'actions' }, confirmButton, cancelButton),
    );
    const allButtons = [...actionButtons, confirmButton, cancelButton];

    function closeConfirmation() {
      confirmation.hidden = true;
      actions.hidden = false;
      focusElement(actionButtons[buttons.indexOf('ended')]);
    }

    // Checks the reason and returns it trimmed, or null after showing what is wrong.
    function checkedReason(status) {
      const text = reason.input.value.trim();
      let problem = null;
      if (status !== 'active' && !text) problem = 'agreement_page.reason_missing';
      else if ([...text].length > REASON_MAX_CHARS) problem = 'agreement_page.reason_invalid';
      if (!problem) return text;
      showFieldError(reason, t(problem));
      focusElement(reason.input);
      return null;
    }

    function change(status) {
      clearFieldError(reason);
      alert.textContent = '';
      notice.textContent = '';
      if (checkedReason(status) === null) return;
      if (status === 'ended') {
        actions.hidden = true;
        confirmation.hidden = false;
        focusElement(confirmHeading);
        return;
      }
      send(status);
    }

    let busy = false;
    async function send(status) {
      if (busy) return;
      clearFieldError(reason);
      const text = checkedReason(status);
      if (text === null) return;
      busy = true;
      for (const button of allButtons) button.disabled = true;
      try {
        const changed = await setAgreementStatus(conversationId, status, text || null);
        if (ctx.signal.aborted) return;
        onChanged(changed);
        show(changed, t(`agreement_page.changed.${status}`));
        focusElement(heading);
      } catch (error) {
        if (ctx.signal.aborted) return;
        if (error.code === 'request.invalid_field' && error.field === 'reason') {
          showFieldError(reason, t('agreement_page.reason_invalid'));
          focusElement(reason.input);
        } else if (error.code === 'resource.conflict') {
          onConflict(t('agreement_page.status_conflict'));
        } else {
          alert.textContent = describeError(error);
          focusElement(alert);
        }
      } finally {
        busy = false;
        for (const button of allButtons) button.disabled = false;
      }
    }

    return h(
      'form',
      {
        class: 'form agreement-status__form',
        noValidate: true,
        attrs: { 'aria-labelledby': heading.id },
        // Each change has its own button, so the form itself never submits.
        on: { submit: (event) => event.preventDefault() },
      },
      reason.wrapper,
      actions,
      confirmation,
    );
  }

  function show(agreement, message = '') {
    const ended = (CHANGES[agreement.status] ?? []).length === 0;
    body.replaceChildren(statusLine(agreement));
    if (!ended) body.append(changeForm(agreement));
    alert.textContent = '';
    notice.textContent = message;
  }

  return { element, show };
}
