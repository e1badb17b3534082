// The form of a contact link's agreement, for its supervising
// practitioner: which letters a practitioner reads first, who sees read
// receipts, whether the families may message each other live, how long
// its video calls last, the schedule of exchanges, the files each family
// may attach, each party's family and relationship, and the protected
// terms. Each part
// is a fieldset, so an error that the server names by field shows next to
// its group. The server checks every value; the form itself checks only
// what its own prompts leave unchosen, and days and call lengths that are
// not whole numbers.

import { focusElement, h } from '../dom.js';
import { monthName } from '../format.js';
import { t } from '../i18n.js';
import {
  checkboxField,
  clearFieldError,
  field,
  fieldGroup,
  radioGroup,
  showFieldError,
} from './fields.js';
import { RELATIONSHIPS, relationshipText } from './invitations.js';

const REVIEW_LEVELS = ['every_item', 'first_exchange', 'none'];
const READ_RECEIPTS = ['everyone', 'practitioners'];
const SIDES = ['adoptive', 'birth'];
const MEDIA = ['document', 'image', 'audio', 'video'];
const TERM_KINDS = ['surname', 'first_name', 'school', 'town', 'club', 'other'];
const MONTHS = Array.from({ length: 12 }, (_, index) => index + 1);

// The server's limits: an exchange falls on day 1 to 28, so that every
// month has it, and each family writes at most once a month. There are at
// most 50 protected terms of 1 to 100 characters, none twice.
const LAST_DAY = 28;
const MAX_EXCHANGES = MONTHS.length * SIDES.length;
const MAX_TERMS = 50;
const TERM_MAX_CHARS = 100;
const WHOLE_NUMBER = /^\d{1,2}$/;
/** A call length as the form takes it: empty, or a whole number of minutes. */
const CALL_MINUTES = /^\d{0,5}$/;
/** The shortest call an agreement may set; the server gives the longest as `call_minutes_max`. */
const MIN_CALL_MINUTES = 5;

/** Default values of the form for a link that has no agreement yet. */
const NEW_AGREEMENT = {
  review_level: 'every_item',
  read_receipts: 'practitioners',
  live_messages: false,
  call_minutes: null,
  schedule: { on_request: true, exchanges: [] },
  media: { adoptive: ['document'], birth: ['document'] },
  parties: [],
  protected_terms: [],
};

function sideLabel(side) {
  return t(`invitations.side.${side}`);
}

/** Creates a labelled select with `options` (`{ value, label }`) and an optional prompt first. */
function selectField({ id, name, label, options, prompt }) {
  const control = field({ id, name, label, tag: 'select' });
  const choices = options.map((option) => h('option', { value: option.value, text: option.label }));
  if (prompt) choices.unshift(h('option', { value: '', text: prompt }));
  control.input.append(...choices);
  return control;
}

/** Marks an input or select invalid until the next clearing of the form's errors. */
function markInvalid(control) {
  if (control && control.tagName !== 'BUTTON') control.setAttribute('aria-invalid', 'true');
}

/**
 * Creates a list of rows that grows and shrinks: each row is a fieldset
 * whose legend gives its position, with a Remove button. `build(id,
 * values)` returns `{ fields, first, read() }`, where `first` is the
 * control that focus moves to.
 */
function rowList({ idPrefix, legendKey, removeKey, addLabel, emptyText, max, build }) {
  const rows = [];
  let nextKey = 0;
  const list = h('div', { class: 'agreement-rows' });
  const empty = h('p', { class: 'empty', text: emptyText });
  const addButton = h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: addLabel,
  });

  function renumber() {
    rows.forEach((row, index) => {
      const position = index + 1;
      row.legend.textContent = t(legendKey, { position });
      row.remove.setAttribute('aria-label', t(removeKey, { position }));
    });
    empty.hidden = rows.length > 0;
    addButton.hidden = rows.length >= max;
  }

  function removeRow(row) {
    const index = rows.indexOf(row);
    rows.splice(index, 1);
    row.element.remove();
    renumber();
    // Focus moves to the row that took this one's place, else to the one
    // before it, else to the Add button.
    const next = rows[index] ?? rows[index - 1];
    focusElement(next ? next.first : addButton);
  }

  function add(values, { focus = false } = {}) {
    const built = build(`${idPrefix}-${nextKey}`, values);
    nextKey += 1;
    const legend = h('legend', { class: 'agreement-row__legend' });
    const remove = h('button', {
      type: 'button',
      class: 'button button--secondary',
      text: t('agreement_page.remove'),
    });
    const element = h(
      'fieldset',
      { class: 'agreement-row' },
      legend,
      h('div', { class: 'agreement-row__fields' }, built.fields, remove),
    );
    const row = { ...built, element, legend, remove };
    remove.addEventListener('click', () => removeRow(row));
    rows.push(row);
    list.append(element);
    renumber();
    if (focus) focusElement(row.first);
    return row;
  }

  renumber();
  return { rows, add, addButton, element: h('div', {}, list, empty, addButton) };
}

function exchangeRow(id, exchange) {
  const month = selectField({
    id: `${id}-month`,
    name: 'month',
    label: t('agreement_page.month_label'),
    options: MONTHS.map((value) => ({ value: String(value), label: monthName(value) })),
  });
  month.input.value = String(exchange.month);
  const day = field({
    id: `${id}-day`,
    name: 'day',
    type: 'number',
    label: t('agreement_page.day_label'),
    attrs: { min: 1, max: LAST_DAY, step: 1, inputmode: 'numeric' },
  });
  day.input.classList.add('field__input--short');
  day.input.value = String(exchange.day ?? 1);
  const side = selectField({
    id: `${id}-side`,
    name: 'from',
    label: t('agreement_page.writer_label'),
    options: SIDES.map((value) => ({ value, label: sideLabel(value) })),
  });
  side.input.value = exchange.from;
  return {
    fields: [month.wrapper, day.wrapper, side.wrapper],
    first: month.input,
    month: month.input,
    day: day.input,
    side: side.input,
  };
}

function termRow(id, term) {
  const kind = selectField({
    id: `${id}-kind`,
    name: 'kind',
    label: t('agreement_page.term_kind_label'),
    options: TERM_KINDS.map((value) => ({ value, label: t(`agreement_page.term_kind.${value}`) })),
    prompt: t('agreement_page.term_kind_choose'),
  });
  kind.input.value = TERM_KINDS.includes(term.kind) ? term.kind : '';
  const text = field({
    id: `${id}-text`,
    name: 'text',
    label: t('agreement_page.term_text_label'),
    attrs: { maxlength: TERM_MAX_CHARS, autocomplete: 'off', spellcheck: 'false' },
  });
  text.input.value = term.text ?? '';
  return {
    fields: [kind.wrapper, text.wrapper],
    first: kind.input,
    kind: kind.input,
    text: text.input,
  };
}

/** Creates the family and relationship of one party, whose relationships follow the family. */
function partyRow(participant, party) {
  const id = `party-${participant.user_id}`;
  const side = selectField({
    id: `${id}-side`,
    name: 'side',
    label: t('agreement_page.party_side_label'),
    options: SIDES.map((value) => ({ value, label: sideLabel(value) })),
    prompt: t('agreement_page.party_side_choose'),
  });
  const relationship = field({
    id: `${id}-relationship`,
    name: 'relationship',
    tag: 'select',
    label: t('invitations.relationship_label'),
  });
  const showSide = (chosen) => {
    const choices = RELATIONSHIPS[side.input.value] ?? [];
    const selected = choices.includes(chosen) ? chosen : '';
    const prompt = side.input.value ? 'relationship_choose' : 'relationship_side_first';
    relationship.input.replaceChildren(
      h('option', { value: '', text: t(`invitations.${prompt}`) }),
      ...choices.map((value) => h('option', { value, text: relationshipText(value) })),
    );
    relationship.input.value = selected;
  };
  side.input.value = SIDES.includes(party?.side) ? party.side : '';
  showSide(party?.relationship);
  side.input.addEventListener('change', () => showSide(relationship.input.value));
  const element = h(
    'fieldset',
    { class: 'agreement-row' },
    h('legend', { class: 'agreement-row__legend', text: participant.display_name }),
    h('div', { class: 'agreement-row__fields' }, side.wrapper, relationship.wrapper),
  );
  return {
    element,
    userId: participant.user_id,
    side: side.input,
    relationship: relationship.input,
  };
}

/** Creates the checkboxes of the files one family may attach. */
function mediaChoices(side, chosen) {
  const boxes = MEDIA.map((category) => {
    const box = checkboxField({
      id: `media-${side}-${category}`,
      name: `media_${side}`,
      label: t(`agreement_page.media.${category}`),
    });
    box.input.value = category;
    box.input.checked = chosen.includes(category);
    return box;
  });
  const element = h(
    'fieldset',
    { class: 'choices agreement-subgroup' },
    h('legend', { class: 'field__label', text: sideLabel(side) }),
    boxes.map((box) => box.wrapper),
  );
  return {
    element,
    boxes,
    values: () => boxes.filter((box) => box.input.checked).map((box) => box.input.value),
  };
}

/** Adapts a radio group to the interface of the other groups. */
function radioPart(group) {
  return {
    wrapper: group.wrapper,
    showError: (text) => group.showError(text),
    clearError: () => group.clearError(),
    focus: (control) => (control ? focusElement(control) : group.focus()),
  };
}

function choicesOf(values, prefix) {
  return values.map((value) => ({ value, label: t(`${prefix}.${value}`) }));
}

/** Returns the control of the first exchange with a day out of range or a repeated month. */
function suspectExchange(rows) {
  const seen = new Set();
  for (const row of rows) {
    const day = Number(row.day.value);
    const key = `${row.month.value}-${row.side.value}`;
    if (!Number.isInteger(day) || day < 1 || day > LAST_DAY) return row.day;
    if (seen.has(key)) return row.month;
    seen.add(key);
  }
  return null;
}

/** Returns the text field of the first term that is empty, too long or a repeat. */
function suspectTerm(rows) {
  const seen = new Set();
  for (const row of rows) {
    const text = row.text.value.trim();
    const normalised = text.toLowerCase();
    if (!text || [...text].length > TERM_MAX_CHARS || seen.has(normalised)) return row.text;
    seen.add(normalised);
  }
  return null;
}

/**
 * Creates the agreement form, filled from `agreement` (null for a link
 * without one), with the family and relationship of each of
 * `participants` (`{ user_id, display_name }`). On submit, after its own
 * checks, the form calls `onSubmit(body)` with the body of
 * `PUT /conversations/{id}/agreement`. Returns the form element and what
 * the page needs: `showServerError(error)` (false for a field the form
 * does not have), `setBusy(busy)`, `disable()` and `focusSave()`.
 */
export function agreementForm({ agreement, participants, onSubmit }) {
  const source = agreement ?? NEW_AGREEMENT;

  const review = radioGroup({
    id: 'agreement-review',
    name: 'review_level',
    legend: t('agreement_page.review_legend'),
    choices: choicesOf(REVIEW_LEVELS, 'agreement_page.review'),
  });
  review.value = source.review_level;
  const receipts = radioGroup({
    id: 'agreement-receipts',
    name: 'read_receipts',
    legend: t('agreement_page.receipts_legend'),
    choices: choicesOf(READ_RECEIPTS, 'agreement_page.receipts'),
  });
  receipts.value = source.read_receipts;
  // Live messages reach the other family with no review, so they stay off
  // unless the practitioner turns them on.
  const live = checkboxField({
    id: 'agreement-live-messages',
    name: 'live_messages',
    label: t('agreement_page.live_messages'),
    hint: t('agreement_page.live_messages_hint'),
  });
  live.input.checked = Boolean(source.live_messages);

  const max = source.call_minutes_max;
  const callMinutesInput = field({
    id: 'agreement-call-minutes',
    name: 'call_minutes',
    type: 'number',
    label: t('agreement_page.call_minutes_label'),
    hint: max
      ? t('agreement_page.call_minutes_hint', { max })
      : t('agreement_page.call_minutes_hint_unknown'),
    attrs: { min: MIN_CALL_MINUTES, max, step: 1, inputmode: 'numeric' },
  });
  callMinutesInput.input.classList.add('field__input--short');
  callMinutesInput.input.value = source.call_minutes == null ? '' : String(source.call_minutes);
  const callMinutes = {
    wrapper: callMinutesInput.wrapper,
    showError: (text) => showFieldError(callMinutesInput, text),
    clearError: () => clearFieldError(callMinutesInput),
    focus: () => focusElement(callMinutesInput.input),
  };

  const mode = radioGroup({
    id: 'agreement-schedule-mode',
    name: 'schedule_mode',
    legend: t('agreement_page.schedule_mode_legend'),
    choices: choicesOf(['fixed', 'on_request'], 'agreement_page.schedule_mode'),
  });
  mode.wrapper.classList.add('agreement-subgroup');
  mode.value = source.schedule?.on_request ? 'on_request' : 'fixed';
  const exchanges = rowList({
    idPrefix: 'exchange',
    legendKey: 'agreement_page.exchange_legend',
    removeKey: 'agreement_page.remove_exchange',
    addLabel: t('agreement_page.add_exchange'),
    emptyText: t('agreement_page.exchanges_empty'),
    max: MAX_EXCHANGES,
    build: exchangeRow,
  });
  for (const exchange of source.schedule?.exchanges ?? []) exchanges.add(exchange);
  exchanges.addButton.addEventListener('click', () => {
    exchanges.add(freeExchange(exchanges.rows), { focus: true });
  });
  const showMode = () => {
    exchanges.element.hidden = mode.value === 'on_request';
  };
  for (const radio of mode.radios) radio.addEventListener('change', showMode);
  showMode();
  const schedule = fieldGroup({
    id: 'agreement-schedule',
    legend: t('agreement_page.schedule_legend'),
    hint: t('agreement_page.schedule_hint'),
    children: [mode.wrapper, exchanges.element],
  });

  const media = SIDES.map((side) => mediaChoices(side, source.media?.[side] ?? []));
  const mediaGroup = fieldGroup({
    id: 'agreement-media',
    legend: t('agreement_page.media_legend'),
    hint: t('agreement_page.media_hint'),
    children: media.map((choices) => choices.element),
  });

  const parties = participants.map((participant) =>
    partyRow(
      participant,
      (source.parties ?? []).find((party) => party.user_id === participant.user_id),
    ),
  );
  const partiesGroup = fieldGroup({
    id: 'agreement-parties',
    legend: t('agreement_page.parties_legend'),
    hint: t('agreement_page.parties_hint'),
    children:
      parties.length > 0
        ? parties.map((party) => party.element)
        : h('p', { class: 'empty', text: t('agreement_page.parties_empty') }),
  });

  const terms = rowList({
    idPrefix: 'term',
    legendKey: 'agreement_page.term_legend',
    removeKey: 'agreement_page.remove_term',
    addLabel: t('agreement_page.add_term'),
    emptyText: t('agreement_page.terms_empty'),
    max: MAX_TERMS,
    build: termRow,
  });
  for (const term of source.protected_terms ?? []) terms.add(term);
  terms.addButton.addEventListener('click', () => terms.add({}, { focus: true }));
  const termsGroup = fieldGroup({
    id: 'agreement-terms',
    legend: t('agreement_page.terms_legend'),
    hint: t('agreement_page.terms_hint'),
    children: [terms.element],
  });

  const saveButton = h('button', {
    type: 'submit',
    class: 'button',
    text: t('agreement_page.save'),
  });
  const element = h(
    'form',
    {
      class: 'form agreement-form',
      noValidate: true,
      attrs: { 'aria-labelledby': 'agreement-form-heading' },
    },
    review.wrapper,
    receipts.wrapper,
    live.wrapper,
    callMinutes.wrapper,
    schedule.wrapper,
    mediaGroup.wrapper,
    partiesGroup.wrapper,
    termsGroup.wrapper,
    saveButton,
  );

  /** The groups by the `field` name the server gives in a 400. */
  const groups = {
    review_level: radioPart(review),
    read_receipts: radioPart(receipts),
    call_minutes: callMinutes,
    schedule,
    media: mediaGroup,
    parties: partiesGroup,
    protected_terms: termsGroup,
  };

  function clearErrors() {
    for (const group of Object.values(groups)) group.clearError();
    for (const control of element.querySelectorAll('[aria-invalid]')) {
      control.removeAttribute('aria-invalid');
    }
  }

  /** Shows `text` with the group of `fieldName`, marks `control` and focuses it. */
  function showError(fieldName, text, control) {
    const group = groups[fieldName];
    group.showError(text);
    markInvalid(control);
    group.focus(control);
  }

  /** Returns the first problem the form can see itself, as `[field, catalogue key, control]`. */
  function ownProblem() {
    if (!review.value) return ['review_level', 'agreement_page.review_missing', null];
    if (!receipts.value) return ['read_receipts', 'agreement_page.receipts_missing', null];
    const minutesTyped = callMinutesInput.input;
    if (minutesTyped.validity.badInput || !CALL_MINUTES.test(minutesTyped.value.trim())) {
      return ['call_minutes', 'agreement_page.call_minutes_format', null];
    }
    if (mode.value === 'fixed') {
      if (exchanges.rows.length === 0) {
        return ['schedule', 'agreement_page.exchanges_missing', exchanges.addButton];
      }
      const badDay = exchanges.rows.find((row) => !WHOLE_NUMBER.test(row.day.value.trim()));
      if (badDay) return ['schedule', 'agreement_page.day_format', badDay.day];
    }
    for (const party of parties) {
      if (!party.side.value) return ['parties', 'agreement_page.party_side_missing', party.side];
      if (!party.relationship.value) {
        return ['parties', 'agreement_page.party_relationship_missing', party.relationship];
      }
    }
    const noKind = terms.rows.find((row) => !row.kind.value);
    if (noKind) return ['protected_terms', 'agreement_page.term_kind_missing', noKind.kind];
    return null;
  }

  function body() {
    const onRequest = mode.value === 'on_request';
    return {
      review_level: review.value,
      read_receipts: receipts.value,
      live_messages: live.input.checked,
      call_minutes: minutesOrNull(callMinutesInput.input.value),
      schedule: {
        on_request: onRequest,
        exchanges: onRequest
          ? []
          : exchanges.rows.map((row) => ({
              month: Number(row.month.value),
              day: Number(row.day.value.trim()),
              from: row.side.value,
            })),
      },
      media: Object.fromEntries(SIDES.map((side, index) => [side, media[index].values()])),
      parties: parties.map((party) => ({
        user_id: party.userId,
        side: party.side.value,
        relationship: party.relationship.value,
      })),
      protected_terms: terms.rows.map((row) => ({ kind: row.kind.value, text: row.text.value })),
    };
  }

  element.addEventListener('submit', (event) => {
    event.preventDefault();
    if (saveButton.disabled) return;
    clearErrors();
    const problem = ownProblem();
    if (problem) {
      const [fieldName, key, control] = problem;
      showError(fieldName, t(key), control);
      return;
    }
    onSubmit(body());
  });

  /** Returns the control to mark and focus for a server error on `fieldName`, or null. */
  function suspectControl(fieldName) {
    if (fieldName === 'schedule' && mode.value === 'fixed') return suspectExchange(exchanges.rows);
    if (fieldName === 'protected_terms') return suspectTerm(terms.rows);
    return null;
  }

  return {
    element,
    showServerError(error, text) {
      if (!Object.hasOwn(groups, error.field ?? '')) return false;
      showError(error.field, text, suspectControl(error.field));
      return true;
    },
    clearErrors,
    setBusy(busy) {
      saveButton.disabled = busy;
    },
    /** Makes the form read-only, for an ended link whose agreement can no longer change. */
    disable() {
      for (const control of element.querySelectorAll('input, select, textarea')) {
        control.disabled = true;
      }
      for (const button of element.querySelectorAll('button')) button.hidden = true;
    },
    focusSave() {
      focusElement(saveButton);
    },
  };
}

/** Returns the call length typed, as a number, or null when the field is empty. */
function minutesOrNull(text) {
  const trimmed = text.trim();
  return trimmed === '' ? null : Number(trimmed);
}

/**
 * Returns an exchange for a new row: the first month that neither family
 * has, else the first month and family not taken.
 */
function freeExchange(rows) {
  const usedPairs = new Set(rows.map((row) => `${row.month.value}-${row.side.value}`));
  const usedMonths = new Set(rows.map((row) => row.month.value));
  const freeMonth = MONTHS.find((month) => !usedMonths.has(String(month)));
  if (freeMonth) return { month: freeMonth, day: 1, from: SIDES[0] };
  for (const month of MONTHS) {
    for (const from of SIDES) {
      if (!usedPairs.has(`${month}-${from}`)) return { month, day: 1, from };
    }
  }
  return { month: 1, day: 1, from: SIDES[0] };
}
