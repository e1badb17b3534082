// Labelled form fields with a hint and a slot for an error message, which
// the control's aria-describedby names while the error shows.

import { h } from '../dom.js';

/**
 * Creates a labelled control with a slot for its error message. `tag` is
 * `input` (the default), `textarea` or `select`, and `type` applies to
 * inputs only.
 * `describedBy` lists the ids of other elements that describe the control,
 * such as a save state, after the hint.
 */
export function field({
  id,
  name,
  label,
  hint,
  type = 'text',
  tag = 'input',
  describedBy = [],
  attrs = {},
}) {
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const descriptionIds = [hintId, ...describedBy].filter(Boolean);
  const input = h(tag, {
    id,
    name,
    type: tag === 'input' ? type : undefined,
    class: 'field__input',
    attrs: { 'aria-describedby': descriptionIds.join(' ') || undefined, ...attrs },
  });
  const error = h('p', { class: 'field__error', id: errorId, hidden: true });
  const wrapper = h(
    'div',
    { class: 'field' },
    h('label', { class: 'field__label', htmlFor: id, text: label }),
    hint ? h('p', { class: 'field__hint', id: hintId, text: hint }) : null,
    error,
    input,
  );
  return { wrapper, input, error, hintId, errorId, descriptionIds };
}

export function showFieldError(control, text) {
  control.error.textContent = text;
  control.error.hidden = false;
  control.input.setAttribute('aria-invalid', 'true');
  const describedBy = [...control.descriptionIds, control.errorId].join(' ');
  control.input.setAttribute('aria-describedby', describedBy);
}

export function clearFieldError(control) {
  control.error.textContent = '';
  control.error.hidden = true;
  control.input.removeAttribute('aria-invalid');
  const describedBy = control.descriptionIds.join(' ');
  if (describedBy) control.input.setAttribute('aria-describedby', describedBy);
  else control.input.removeAttribute('aria-describedby');
}
