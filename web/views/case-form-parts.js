// Building blocks of the child and family case forms, also used by the
// other family-finding forms: controls for codes, whole numbers and text.
// FormErrors registers each form's error slots, so that a check on the page
// or the server's `field` puts its message next to the right control.

import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import { clearFieldError, field, selectField, showFieldError } from './fields.js';
import { codeOptions } from './family-finding.js';

/** Creates a select of the codes `codes` of catalogue list `list`, starting with a prompt. */
export function codeSelect({ id, name, label, hint, list, codes, value }) {
  const control = selectField({
    id,
    name,
    label,
    hint,
    options: codeOptions(list, codes),
    prompt: t('case_form.choose'),
  });
  control.input.value = codes.includes(value) ? value : '';
  return control;
}

/** Creates a short number input for whole numbers from `min` to `max`. */
export function wholeNumberField({ id, name, label, hint, min, max, value }) {
  const control = field({
    id,
    name,
    label,
    hint,
    type: 'number',
    attrs: { min, max, step: 1, inputmode: 'numeric' },
  });
  control.input.classList.add('field__input--short');
  control.input.value = Number.isInteger(value) ? String(value) : '';
  return control;
}

/** Creates a textarea whose value is at most `maxLength` characters. */
export function textArea({ id, name, label, hint, maxLength, value, rows = 4 }) {
  const control = field({
    id,
    name,
    label,
    hint,
    tag: 'textarea',
    attrs: { maxlength: maxLength, rows },
  });
  control.input.value = value ?? '';
  return control;
}

/**
 * Returns the whole number in `input` when it is from `min` to `max`,
 * else null. An empty input is null too.
 */
export function readWholeNumber(input, min, max) {
  const text = input.value.trim();
  if (!/^\d+$/.test(text)) return null;
  const number = Number(text);
  return number >= min && number <= max ? number : null;
}

/**
 * Returns today's date in UTC as `YYYY-MM-DD`, the day the server checks
 * approval dates against.
 */
export function todayUtc() {
  return new Date().toISOString().slice(0, 10);
}

/** Returns the number of characters of `text` as the server counts them (code points). */
export function charCount(text) {
  return [...text].length;
}

/**
 * Error slots of one form by field name. A slot is a control made by
 * `field` (its input gets focus) or a group made by `fieldGroup` (its
 * first control, or the control passed to `show`, gets focus).
 */
export class FormErrors {
  #slots = new Map();
  #shown = [];

  addControl(name, control) {
    this.#slots.set(name, {
      show: (text) => showFieldError(control, text),
      clear: () => clearFieldError(control),
      focus: () => focusElement(control.input),
    });
  }

  addGroup(name, group) {
    this.#slots.set(name, {
      show: (text) => group.showError(text),
      clear: () => group.clearError(),
      focus: (target) => group.focus(target),
    });
  }

  has(name) {
    return this.#slots.has(name);
  }

  clear() {
    for (const slot of this.#shown) slot.clear();
    this.#shown = [];
  }

  /**
   * Shows each `[name, text, focusTarget]` of `problems` in its slot and
   * focuses the first. Returns false when one names no slot of this form,
   * after showing the others.
   */
  show(problems) {
    let all = true;
    let first = null;
    for (const [name, text, target] of problems) {
      const slot = this.#slots.get(name);
      if (!slot) {
        all = false;
        continue;
      }
      slot.show(text);
      this.#shown.push(slot);
      first ??= () => slot.focus(target);
    }
    first?.();
    return all;
  }
}

/** Creates the row of an add-and-remove list: a fieldset with a legend and a Remove button. */
export function removableRow({ legend, fields, onRemove }) {
  const legendElement = h('legend', { class: 'agreement-row__legend', text: legend });
  const remove = h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: t('case_form.remove'),
    on: { click: onRemove },
  });
  const element = h(
    'fieldset',
    { class: 'agreement-row' },
    legendElement,
    h('div', { class: 'agreement-row__fields' }, fields, remove),
  );
  return { element, legend: legendElement, remove };
}
