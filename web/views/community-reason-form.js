// A small form that sends a reason, used wherever the community needs
// one: reporting a post, rejecting an application, moderating a post or a
// member, appealing a notice and answering an appeal. It may offer a
// choice of actions first, and a number of days for the actions that need
// one.

import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import { charCount, describeCommunityError, SHORT_TEXT_MAX_CHARS } from './community-parts.js';
import { alertRegion } from './common.js';
import { clearFieldError, field, radioGroup, showFieldError } from './fields.js';

/** The maximum suspension in days, as the server allows. */
export const MAX_SUSPENSION_DAYS = 365;

/**
 * Creates the form. Options:
 * - `id`: the base of its element ids, unique on the page;
 * - `label`: the form's accessible name;
 * - `choices` (optional): `{ value, label }` actions, with `legend`;
 * - `daysFor(action)` (optional): whether an action also needs days;
 * - `reasonLabel`, `reasonHint` and `submitLabel`;
 * - `reasonName` (optional): the request field that carries the reason,
 *   as the server names it in a `request.invalid_field` error;
 * - `submit({ action, reason, days })`: sends the request and rejects
 *   with an ApiError, which the form shows next to its field;
 * - `cancel()` (optional): adds a Cancel button that calls it;
 * - `membership`: mine, for the text of a suspension.
 * Returns `{ element, reset(), focus() }`.
 */
export function reasonForm({
  id,
  label,
  choices = null,
  legend = '',
  daysFor = () => false,
  reasonLabel,
  reasonHint,
  reasonName = 'reason',
  submitLabel,
  submit,
  cancel = null,
  membership = null,
}) {
  const alert = alertRegion();
  const actions = choices
    ? radioGroup({ id: `${id}-action`, name: 'action', legend, choices })
    : null;
  const reasonField = field({
    id: `${id}-reason`,
    name: 'reason',
    tag: 'textarea',
    label: reasonLabel,
    hint: reasonHint ?? t('community.reason_hint', { max: SHORT_TEXT_MAX_CHARS }),
  });
  reasonField.input.rows = 3;
  const daysField = field({
    id: `${id}-days`,
    name: 'days',
    type: 'number',
    label: t('community.moderate.days_label'),
    hint: t('community.moderate.days_hint', { max: MAX_SUSPENSION_DAYS }),
    attrs: { min: 1, max: MAX_SUSPENSION_DAYS, inputmode: 'numeric' },
  });
  daysField.input.classList.add('field__input--short');
  daysField.wrapper.hidden = true;
  const submitButton = h('button', { type: 'submit', class: 'button', text: submitLabel });
  const cancelButton = cancel
    ? h('button', {
        type: 'button',
        class: 'button button--secondary',
        text: t('community.cancel'),
        on: { click: () => cancel() },
      })
    : null;
  const element = h(
    'form',
    { class: 'form community-reason-form', noValidate: true, attrs: { 'aria-label': label } },
    alert,
    actions?.wrapper,
    reasonField.wrapper,
    daysField.wrapper,
    h('div', { class: 'actions' }, submitButton, cancelButton),
  );
  actions?.wrapper.addEventListener('change', () => {
    daysField.wrapper.hidden = !daysFor(actions.value);
  });

  function clearErrors() {
    alert.textContent = '';
    actions?.clearError();
    clearFieldError(reasonField);
    clearFieldError(daysField);
  }

  // Shows what is wrong with the fields, focusing the first at fault, and
  // returns the values to send, or null.
  function values() {
    const action = actions ? actions.value : null;
    const reason = reasonField.input.value.trim();
    const needsDays = Boolean(action) && daysFor(action);
    const days = needsDays ? Number(daysField.input.value) : null;
    const problems = [];
    if (actions && !action) {
      problems.push(() => {
        actions.showError(t('community.moderate.action_missing'));
        actions.focus();
      });
    }
    if (reason.length === 0 || charCount(reason) > SHORT_TEXT_MAX_CHARS) {
      problems.push(() => showReasonError());
    }
    if (needsDays && !(Number.isInteger(days) && days >= 1 && days <= MAX_SUSPENSION_DAYS)) {
      problems.push(() => showDaysError());
    }
    // Later fields first, so that focus ends on the first one at fault.
    for (const show of problems.reverse()) show();
    return problems.length === 0 ? { action, reason, days } : null;
  }
  function showReasonError() {
    showFieldError(reasonField, t('community.reason_invalid', { max: SHORT_TEXT_MAX_CHARS }));
    focusElement(reasonField.input);
  }
  function showDaysError() {
    showFieldError(daysField, t('community.moderate.days_invalid', { max: MAX_SUSPENSION_DAYS }));
    focusElement(daysField.input);
  }

  let busy = false;
  element.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    clearErrors();
    const sent = values();
    if (!sent) return;
    busy = true;
    submitButton.disabled = true;
    try {
      await submit(sent);
    } catch (error) {
      if (error.name === 'AbortError') return;
      if (error.code === 'request.invalid_field' && error.field === reasonName) {
        showReasonError();
      } else if (error.code === 'request.invalid_field' && error.field === 'days') {
        showDaysError();
      } else {
        alert.textContent = describeCommunityError(error, membership);
        focusElement(alert);
      }
    } finally {
      busy = false;
      submitButton.disabled = false;
    }
  });

  return {
    element,
    /** Empties the form after a request it sent was stored. */
    reset() {
      element.reset();
      clearErrors();
      daysField.wrapper.hidden = true;
    },
    focus() {
      if (actions) actions.focus();
      else focusElement(reasonField.input);
    },
  };
}
