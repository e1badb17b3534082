// Labelled form fields, checkboxes and groups of controls, each with a slot for an
// error message, which aria-describedby names while the error shows.

import { focusElement, h } from '../dom.js';

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

/**
 * Creates radio buttons in a fieldset with a slot for the group's error
 * message, which the fieldset's aria-describedby names while it shows.
 * `choices` lists `{ value, label }`, and each radio's id is `<id>-<value>`.
 */
export function radioGroup({ id, name, legend, choices }) {
  const error = h('p', { class: 'field__error', id: `${id}-error`, hidden: true });
  const radios = choices.map((choice) =>
    h('input', {
      type: 'radio',
      name,
      value: choice.value,
      id: `${id}-${choice.value}`,
      class: 'choice__input',
    }),
  );
  const wrapper = h(
    'fieldset',
    { class: 'field choices', id },
    h('legend', { class: 'field__label', text: legend }),
    error,
    radios.map((radio, index) =>
      h(
        'div',
        { class: 'choice' },
        radio,
        h('label', { htmlFor: radio.id, class: 'choice__label', text: choices[index].label }),
      ),
    ),
  );
  return {
    wrapper,
    radios,
    get value() {
      return radios.find((radio) => radio.checked)?.value ?? null;
    },
    set value(value) {
      for (const radio of radios) radio.checked = radio.value === value;
    },
    showError(text) {
      error.textContent = text;
      error.hidden = false;
      wrapper.setAttribute('aria-describedby', error.id);
    },
    clearError() {
      error.textContent = '';
      error.hidden = true;
      wrapper.removeAttribute('aria-describedby');
    },
    /** Focuses the checked radio, or the first one when none is checked. */
    focus() {
      focusElement(radios.find((radio) => radio.checked) ?? radios[0]);
    },
  };
}

/**
 * Creates a checkbox followed by its label, with an optional hint that the
 * checkbox's aria-describedby names.
 */
export function checkboxField({ id, name, label, hint }) {
  const hintId = hint ? `${id}-hint` : null;
  const input = h('input', {
    type: 'checkbox',
    id,
    name,
    class: 'choice__input',
    attrs: { 'aria-describedby': hintId },
  });
  const wrapper = h(
    'div',
    { class: 'field' },
    h(
      'div',
      { class: 'choice' },
      input,
      h('label', { htmlFor: id, class: 'choice__label', text: label }),
    ),
    hint ? h('p', { class: 'field__hint', id: hintId, text: hint }) : null,
  );
  return { wrapper, input };
}

/**
 * Creates a fieldset of related controls with a legend, an optional hint
 * and a slot for the group's error message, which the fieldset's
 * aria-describedby names while it shows. `children` go after the error.
 */
export function fieldGroup({ id, legend, hint, className = 'field group', children = [] }) {
  const hintId = hint ? `${id}-hint` : null;
  const error = h('p', { class: 'field__error', id: `${id}-error`, hidden: true });
  const wrapper = h(
    'fieldset',
    { class: className, id, attrs: { 'aria-describedby': hintId } },
    h('legend', { class: 'field__label', text: legend }),
    hint ? h('p', { class: 'field__hint', id: hintId, text: hint }) : null,
    error,
    children,
  );
  const describedBy = (withError) =>
    [hintId, withError ? error.id : null].filter(Boolean).join(' ');
  return {
    wrapper,
    showError(text) {
      error.textContent = text;
      error.hidden = false;
      wrapper.setAttribute('aria-describedby', describedBy(true));
    },
    clearError() {
      error.textContent = '';
      error.hidden = true;
      const ids = describedBy(false);
      if (ids) wrapper.setAttribute('aria-describedby', ids);
      else wrapper.removeAttribute('aria-describedby');
    },
    /** Focuses `control` when given, else the group's first enabled control. */
    focus(control) {
      const first = wrapper.querySelector(':is(input, select, textarea, button):enabled');
      focusElement(control ?? first);
    },
  };
}

/**
 * Creates a labelled select with `options` (`{ value, label }`), after an
 * optional first option `prompt` whose value is empty.
 */
export function selectField({ id, name, label, hint, options, prompt, describedBy }) {
  const control = field({ id, name, label, hint, tag: 'select', describedBy });
  const choices = options.map((option) => h('option', { value: option.value, text: option.label }));
  if (prompt !== undefined) choices.unshift(h('option', { value: '', text: prompt }));
  control.input.append(...choices);
  return control;
}
