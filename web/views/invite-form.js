// A form that invites one person by email: their address and the name
// KinLink shows them by. The case page uses it to invite a family to keep
// its profile, and the admin area to invite an organisation's first
// manager. A field the server rejects gets its message next to it, and
// what was typed stays until an invitation is sent.

import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import { alertRegion, describeError } from './common.js';
import { clearFieldError, field, showFieldError } from './fields.js';

/** The server's limit on a display name, in characters. */
const NAME_MAX_CHARS = 80;

/**
 * Creates the form, with ids starting `idPrefix` and its accessible name
 * from the element with id `labelledBy`. `labels` contains the text shown:
 * `email`, `emailHint`, `name`, `nameHint`, `submit` and `conflict`, the
 * sentence for a `409 resource.conflict`. `send({ email, display_name })`
 * sends the invitation; once it resolves, the form is emptied. With
 * `onCancel`, a Cancel button calls it. `signal` stops the form from
 * touching the page after the view has gone.
 * Returns `{ element, focus(), fill({ email, display_name }) }`.
 */
export function inviteForm({ idPrefix, labelledBy, labels, send, onCancel, signal }) {
  const alert = alertRegion();
  const email = field({
    id: `${idPrefix}-email`,
    name: 'email',
    type: 'email',
    label: labels.email,
    hint: labels.emailHint,
    attrs: { autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' },
  });
  const name = field({
    id: `${idPrefix}-name`,
    name: 'display_name',
    label: labels.name,
    hint: labels.nameHint,
    attrs: { autocomplete: 'off', maxlength: NAME_MAX_CHARS },
  });
  const submit = h('button', { type: 'submit', class: 'button', text: labels.submit });
  const buttons = h('div', { class: 'actions' }, submit);
  if (onCancel) {
    buttons.append(
      h('button', {
        type: 'button',
        class: 'button button--secondary',
        text: t('invite_form.cancel'),
        on: { click: onCancel },
      }),
    );
  }
  const form = h(
    'form',
    { class: 'form', noValidate: true, attrs: { 'aria-labelledby': labelledBy } },
    alert,
    email.wrapper,
    name.wrapper,
    buttons,
  );

  /** Shows `text` next to the field the server calls `fieldName`; false for another field. */
  function showError(fieldName, text) {
    const control = { email, display_name: name }[fieldName];
    if (!control) return false;
    showFieldError(control, text);
    return true;
  }

  /** Marks each empty field and focuses the first. Returns whether both are filled in. */
  function checkFilledIn(values) {
    const missing = [];
    if (!values.email) missing.push(['email', email, 'invite_form.email_missing']);
    if (!values.display_name) missing.push(['display_name', name, 'invite_form.name_missing']);
    for (const [fieldName, , key] of missing) showError(fieldName, t(key));
    if (missing.length > 0) focusElement(missing[0][1].input);
    return missing.length === 0;
  }

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    clearFieldError(email);
    clearFieldError(name);
    alert.textContent = '';
    const values = { email: email.input.value.trim(), display_name: name.input.value.trim() };
    if (!checkFilledIn(values)) return;

    busy = true;
    submit.disabled = true;
    try {
      await send(values);
      if (signal?.aborted) return;
      form.reset();
    } catch (error) {
      if (signal?.aborted) return;
      if (error.code === 'request.invalid_field' && showError(error.field, describeError(error))) {
        focusElement(error.field === 'email' ? email.input : name.input);
      } else {
        alert.textContent =
          error.code === 'resource.conflict' ? labels.conflict : describeError(error);
        focusElement(alert);
      }
    } finally {
      busy = false;
      submit.disabled = false;
    }
  });

  return {
    element: form,
    focus: () => focusElement(email.input),
    fill(values) {
      email.input.value = values.email ?? '';
      name.input.value = values.display_name ?? '';
    },
  };
}
