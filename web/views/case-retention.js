// The Legal hold and Erase areas of a case, for managers of the owning
// organisation. While a case is on legal hold, the server rejects its
// erasure and no retention rule marks it. Erasing marks the case, which
// hides it at once, from its own organisation too. The nightly sweep
// anonymises it 14 days later unless a manager keeps it from the Marked
// for deletion page.

import { eraseCase, fetchCase, holdCase, liftCaseHold } from '../api.js';
import { focusElement, h } from '../dom.js';
import { formatDay } from '../format.js';
import { t } from '../i18n.js';
import { FormErrors, charCount, textArea } from './case-form-parts.js';
import { alertRegion, describeError, statusRegion } from './common.js';

/** The maximum length of a legal hold's reason, in characters, as the server checks it. */
const HOLD_REASON_MAX_CHARS = 500;
/** Control characters, such as line breaks, which the server rejects in a reason. */
const CONTROL_CHARACTER = /\p{Cc}/u;

/**
 * Creates the Legal hold area of `loaded`. Returns `{ element, current,
 * reload }`: `current()` returns the hold the area shows or null, and
 * `reload()` reads the case's hold again from the server and shows it.
 * `onChange()` runs whenever the area shows another hold or none.
 */
function holdArea(ctx, loaded, onChange) {
  const headingId = 'case-hold-heading';
  const sectionHeading = h('h2', { id: headingId, text: t('case_retention.hold_title') });
  const status = statusRegion();
  const alert = alertRegion();
  let hold = loaded.legal_hold ?? null;

  const since = h('p', {});
  const reasonText = h('p', { class: 'callout__reason' });
  const liftButton = h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: t('case_retention.hold_lift'),
  });
  const heldView = h(
    'div',
    { class: 'callout callout--important' },
    since,
    h('p', { class: 'callout__reason-label', text: t('case_retention.hold_reason_label') }),
    reasonText,
    h('div', { class: 'actions' }, liftButton),
  );

  const errors = new FormErrors();
  const reason = textArea({
    id: 'case-hold-reason',
    name: 'reason',
    label: t('case_retention.hold_reason_label'),
    hint: t('case_retention.hold_reason_hint'),
    maxLength: HOLD_REASON_MAX_CHARS,
    rows: 3,
  });
  errors.addControl('reason', reason);
  const holdButton = h('button', {
    type: 'submit',
    class: 'button',
    text: t('case_retention.hold_submit'),
  });
  const form = h(
    'form',
    { class: 'form', noValidate: true, attrs: { 'aria-labelledby': headingId } },
    reason.wrapper,
    holdButton,
  );

  function show(next) {
    hold = next ?? null;
    heldView.hidden = hold === null;
    form.hidden = hold !== null;
    since.textContent = hold ? t('case_retention.hold_since', { date: formatDay(hold.since) }) : '';
    reasonText.textContent = hold ? hold.reason : '';
  }
  show(hold);

  async function reload() {
    const fresh = await fetchCase(loaded.id);
    if (ctx.signal.aborted) return null;
    show(fresh.legal_hold);
    onChange();
    return hold;
  }

  /** Shows why a change of the hold failed, in its field or in the alert. */
  async function showFailure(error) {
    if (error.code === 'request.invalid_field' && errors.has(error.field)) {
      errors.show([[error.field, t('case_retention.reason_invalid')]]);
      return;
    }
    let text = describeError(error);
    if (error.code === 'request.forbidden') text = t('case_retention.hold_forbidden');
    if (error.code === 'resource.conflict') {
      // Another manager put a hold on or lifted it since the page loaded.
      text = t('case_retention.hold_changed');
      try {
        await reload();
      } catch (reloadError) {
        text = describeError(reloadError);
      }
    }
    if (ctx.signal.aborted) return;
    alert.textContent = text;
    focusElement(alert);
  }

  function check(text) {
    errors.clear();
    let problem = null;
    if (!text) problem = t('case_retention.reason_missing');
    else if (charCount(text) > HOLD_REASON_MAX_CHARS) problem = t('case_retention.reason_long');
    else if (CONTROL_CHARACTER.test(text)) problem = t('case_retention.reason_line_breaks');
    if (problem) errors.show([['reason', problem]]);
    return problem === null;
  }

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    status.textContent = '';
    alert.textContent = '';
    const text = reason.input.value.trim();
    if (!check(text)) return;
    busy = true;
    holdButton.disabled = true;
    try {
      const placed = await holdCase(loaded.id, text);
      if (ctx.signal.aborted) return;
      reason.input.value = '';
      show(placed);
      onChange();
      status.textContent = t('case_retention.held');
      focusElement(liftButton);
    } catch (error) {
      if (!ctx.signal.aborted) await showFailure(error);
    } finally {
      busy = false;
      holdButton.disabled = false;
    }
  });

  liftButton.addEventListener('click', async () => {
    if (busy) return;
    status.textContent = '';
    alert.textContent = '';
    busy = true;
    liftButton.disabled = true;
    try {
      await liftCaseHold(loaded.id);
      if (ctx.signal.aborted) return;
      show(null);
      onChange();
      status.textContent = t('case_retention.lifted');
      focusElement(reason.input);
    } catch (error) {
      if (!ctx.signal.aborted) await showFailure(error);
    } finally {
      busy = false;
      liftButton.disabled = false;
    }
  });

  const element = h(
    'section',
    { class: 'ff-section', attrs: { 'aria-labelledby': headingId } },
    sectionHeading,
    h('p', { text: t('case_retention.hold_intro') }),
    status,
    alert,
    heldView,
    form,
  );
  return { element, current: () => hold, reload };
}

/**
 * Creates the Erase area of `loaded`, titled `title`, with a confirmation
 * step. `holdSection` is the Legal hold area, which a rejection because of
 * a hold brings up to date. `onErased(marked)` runs with the server's marked case.
 * Returns `{ element, clearAlert }`.
 */
function eraseArea(ctx, loaded, title, holdSection, onErased) {
  const headingId = 'case-erase-heading';
  const alert = alertRegion();
  const openButton = h('button', {
    type: 'button',
    class: 'button button--danger',
    text: t('case_retention.erase_open'),
  });
  const opener = h('div', { class: 'actions' }, openButton);

  const confirmHeading = h('h3', {
    id: 'case-erase-confirm-heading',
    text: t('case_retention.erase_confirm_title', { title }),
    attrs: { tabindex: '-1' },
  });
  const confirmButton = h('button', {
    type: 'button',
    class: 'button button--danger',
    text: t('case_retention.erase_confirm'),
  });
  const cancelButton = h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: t('case_retention.erase_cancel'),
  });
  const confirmation = h(
    'div',
    {
      class: 'callout callout--important',
      hidden: true,
      attrs: { role: 'group', 'aria-labelledby': confirmHeading.id },
    },
    confirmHeading,
    h('p', { text: t('case_retention.erase_confirm_body', { title }) }),
    h('div', { class: 'actions' }, confirmButton, cancelButton),
  );

  const closeConfirmation = () => {
    confirmation.hidden = true;
    opener.hidden = false;
  };

  openButton.addEventListener('click', () => {
    alert.textContent = '';
    opener.hidden = true;
    confirmation.hidden = false;
    focusElement(confirmHeading);
  });

  cancelButton.addEventListener('click', () => {
    closeConfirmation();
    focusElement(openButton);
  });

  /**
   * Returns the text that explains `error`, a rejection because of a hold,
   * with the hold's date and reason.
   */
  async function heldText(error) {
    let hold = holdSection.current();
    try {
      // The hold may be newer than the page, so the area shows it afresh.
      hold = await holdSection.reload();
    } catch {
      // The hold the page already shows, if any, still explains the rejection.
    }
    if (!hold) return describeError(error);
    return t('case_retention.erase_held', { date: formatDay(hold.since), reason: hold.reason });
  }

  let busy = false;
  confirmButton.addEventListener('click', async () => {
    if (busy) return;
    busy = true;
    confirmButton.disabled = true;
    try {
      const marked = await eraseCase(loaded.id);
      if (ctx.signal.aborted) return;
      onErased(marked);
    } catch (error) {
      if (ctx.signal.aborted) return;
      let text = describeError(error);
      if (error.code === 'request.forbidden') text = t('case_retention.erase_forbidden');
      if (error.code === 'case.legal_hold') text = await heldText(error);
      if (ctx.signal.aborted) return;
      closeConfirmation();
      alert.textContent = text;
      focusElement(alert);
    } finally {
      busy = false;
      confirmButton.disabled = false;
    }
  });

  const element = h(
    'section',
    { class: 'ff-section', attrs: { 'aria-labelledby': headingId } },
    h('h2', { id: headingId, text: t('case_retention.erase_title') }),
    h('p', { text: t('case_retention.erase_intro') }),
    alert,
    opener,
    confirmation,
  );
  const clearAlert = () => {
    alert.textContent = '';
  };
  return { element, clearAlert };
}

/**
 * Creates the Legal hold and Erase areas of `loaded`, a case of my
 * organisation titled `title`, and returns their elements in page order.
 * `onErased(marked)` runs once the case is marked for deletion.
 */
export function retentionAreas(ctx, loaded, title, onErased) {
  // A rejected erasure explains a hold, so its message goes once the hold changes.
  const holdSection = holdArea(ctx, loaded, () => erase.clearAlert());
  const erase = eraseArea(ctx, loaded, title, holdSection, onErased);
  return [holdSection.element, erase.element];
}
