// The fields of a child case. A case has one child, or a sibling group to
// be placed together, each with a first name and an age. Then come the
// description, legal status, plan, region, the level of need in each area
// with notes, the ethnic group and religion. The limits are the server's,
// checked here first so that each message sits next to its field.

import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import {
  FormErrors,
  charCount,
  codeSelect,
  readWholeNumber,
  removableRow,
  textArea,
  wholeNumberField,
} from './case-form-parts.js';
import { field, fieldGroup } from './fields.js';
import {
  ETHNICITIES,
  LEGAL_STATUSES,
  MAX_AGE_YEARS,
  MAX_GROUP_SIZE,
  NEED_AREAS,
  NEED_LEVELS,
  PLANS,
  REGIONS,
  codeLabel,
} from './family-finding.js';

const NAME_MAX_CHARS = 60;
const DESCRIPTION_MAX_CHARS = 5000;
const NEED_NOTE_MAX_CHARS = 2000;
const RELIGION_MAX_CHARS = 100;

/** Creates the list of children, each row a first name and an age, from one to eight rows. */
function childrenGroup(children) {
  const rows = [];
  let nextKey = 0;
  const list = h('div', { class: 'agreement-rows' });
  const addButton = h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: t('case_form.child_add'),
  });
  const group = fieldGroup({
    id: 'case-children',
    legend: t('case_form.children_legend'),
    hint: t('case_form.children_hint'),
    children: [list, addButton],
  });

  function renumber() {
    rows.forEach((row, index) => {
      const position = index + 1;
      row.legend.textContent = t('case_form.child_legend', { position });
      row.remove.setAttribute('aria-label', t('case_form.child_remove', { position }));
      row.remove.hidden = rows.length === 1;
    });
    addButton.hidden = rows.length >= MAX_GROUP_SIZE;
  }

  function remove(row) {
    const index = rows.indexOf(row);
    rows.splice(index, 1);
    row.element.remove();
    renumber();
    // Focus moves to the row that took this one's place, else the one before.
    focusElement((rows[index] ?? rows[index - 1]).name.input);
  }

  function add(child, { focus = false } = {}) {
    const id = `case-child-${nextKey}`;
    nextKey += 1;
    const name = field({
      id: `${id}-name`,
      name: 'first_name',
      label: t('case_form.child_name_label'),
      attrs: { maxlength: NAME_MAX_CHARS, autocomplete: 'off' },
    });
    name.input.value = child.first_name ?? '';
    const age = wholeNumberField({
      id: `${id}-age`,
      name: 'age_years',
      label: t('case_form.child_age_label'),
      min: 0,
      max: MAX_AGE_YEARS,
      value: child.age_years,
    });
    const row = { name, age };
    Object.assign(
      row,
      removableRow({
        legend: '',
        fields: [name.wrapper, age.wrapper],
        onRemove: () => remove(row),
      }),
    );
    rows.push(row);
    list.append(row.element);
    renumber();
    if (focus) focusElement(name.input);
  }

  addButton.addEventListener('click', () => add({}, { focus: true }));
  for (const child of children.length > 0 ? children : [{}]) add(child);
  return { group, rows };
}

/** Creates the level and notes of one area of need. */
function needArea(area, level, notes) {
  const levelControl = codeSelect({
    id: `case-need-${area}`,
    name: `needs.${area}`,
    label: t('case_form.need_level_label', { area: codeLabel('need_area', area) }),
    list: 'need',
    codes: NEED_LEVELS,
    value: level,
  });
  const notesControl = textArea({
    id: `case-need-notes-${area}`,
    name: `need_notes.${area}`,
    label: t('case_form.need_notes_label', { area: codeLabel('need_area', area) }),
    hint: t('case_form.need_notes_hint'),
    maxLength: NEED_NOTE_MAX_CHARS,
    value: notes,
    rows: 3,
  });
  return { level: levelControl, notes: notesControl };
}

/**
 * Creates the child case fields, filled from `profile` when editing.
 * Returns `{ element, errors, check(), read() }`: `check()` shows every
 * problem found on the page and returns whether there were none, and
 * `read()` returns the profile to send.
 */
export function childCaseForm(profile = {}) {
  const errors = new FormErrors();
  const children = childrenGroup(profile.children ?? []);
  errors.addGroup('children', children.group);

  const description = textArea({
    id: 'case-description',
    name: 'description',
    label: t('case_form.description_label'),
    hint: t('case_form.description_hint'),
    maxLength: DESCRIPTION_MAX_CHARS,
    value: profile.description,
    rows: 6,
  });
  const legalStatus = codeSelect({
    id: 'case-legal-status',
    name: 'legal_status',
    label: t('case_form.legal_status_label'),
    list: 'legal_status',
    codes: LEGAL_STATUSES,
    value: profile.legal_status,
  });
  const plan = codeSelect({
    id: 'case-plan',
    name: 'plan',
    label: t('case_form.plan_label'),
    list: 'plan',
    codes: PLANS,
    value: profile.plan,
  });
  const region = codeSelect({
    id: 'case-region',
    name: 'region',
    label: t('case_form.region_label'),
    hint: t('case_form.region_hint'),
    list: 'region',
    codes: REGIONS,
    value: profile.region,
  });
  const areas = Object.fromEntries(
    NEED_AREAS.map((area) => [
      area,
      needArea(area, profile.needs?.[area], profile.need_notes?.[area]),
    ]),
  );
  const needs = fieldGroup({
    id: 'case-needs',
    legend: t('case_form.needs_legend'),
    hint: t('case_form.needs_hint'),
    children: NEED_AREAS.map((area) =>
      h('div', { class: 'need-area' }, areas[area].level.wrapper, areas[area].notes.wrapper),
    ),
  });
  const ethnicity = codeSelect({
    id: 'case-ethnicity',
    name: 'ethnicity',
    label: t('case_form.ethnicity_label'),
    list: 'ethnicity',
    codes: ETHNICITIES,
    value: profile.ethnicity,
  });
  const religion = field({
    id: 'case-religion',
    name: 'religion',
    label: t('case_form.religion_label'),
    hint: t('case_form.religion_hint'),
    attrs: { maxlength: RELIGION_MAX_CHARS },
  });
  religion.input.value = profile.religion ?? '';

  for (const [name, control] of [
    ['description', description],
    ['legal_status', legalStatus],
    ['plan', plan],
    ['region', region],
    ['ethnicity', ethnicity],
    ['religion', religion],
  ]) {
    errors.addControl(name, control);
  }
  for (const area of NEED_AREAS) {
    errors.addControl(`needs.${area}`, areas[area].level);
    errors.addControl(`need_notes.${area}`, areas[area].notes);
  }

  /** Returns the problems of the children rows, with the control each one concerns. */
  function childProblems() {
    for (const row of children.rows) {
      const name = row.name.input.value.trim();
      if (!name) return [['children', t('case_form.child_name_missing'), row.name.input]];
      if (charCount(name) > NAME_MAX_CHARS) {
        return [['children', t('case_form.child_name_long'), row.name.input]];
      }
      if (readWholeNumber(row.age.input, 0, MAX_AGE_YEARS) === null) {
        return [['children', t('case_form.child_age_invalid'), row.age.input]];
      }
    }
    return [];
  }

  function check() {
    errors.clear();
    const problems = childProblems();
    if (!description.input.value.trim()) {
      problems.push(['description', t('case_form.description_missing')]);
    }
    for (const [name, control, key] of [
      ['legal_status', legalStatus, 'case_form.legal_status_missing'],
      ['plan', plan, 'case_form.plan_missing'],
      ['region', region, 'case_form.region_missing'],
    ]) {
      if (!control.input.value) problems.push([name, t(key)]);
    }
    for (const area of NEED_AREAS) {
      if (!areas[area].level.input.value) {
        problems.push([`needs.${area}`, t('case_form.need_level_missing')]);
      }
    }
    if (!ethnicity.input.value) problems.push(['ethnicity', t('case_form.ethnicity_missing')]);
    errors.show(problems);
    return problems.length === 0;
  }

  function read() {
    const pick = (control) => control.input.value;
    return {
      children: children.rows.map((row) => ({
        first_name: row.name.input.value.trim(),
        age_years: readWholeNumber(row.age.input, 0, MAX_AGE_YEARS),
      })),
      description: description.input.value.trim(),
      legal_status: pick(legalStatus),
      plan: pick(plan),
      region: pick(region),
      needs: Object.fromEntries(NEED_AREAS.map((area) => [area, pick(areas[area].level)])),
      need_notes: Object.fromEntries(
        NEED_AREAS.map((area) => [area, areas[area].notes.input.value.trim()]),
      ),
      ethnicity: pick(ethnicity),
      religion: religion.input.value.trim(),
    };
  }

  /**
   * Shows a server error naming `fieldName` and returns whether this form
   * has a place for it. The server names `children.first_name` or
   * `children.age_years` without saying which child, so those go to the
   * children's group.
   */
  function showServerError(fieldName, text) {
    const slot = fieldName.startsWith('children') ? 'children' : fieldName;
    return errors.has(slot) && errors.show([[slot, text]]);
  }

  const element = h(
    'div',
    { class: 'form' },
    children.group.wrapper,
    description.wrapper,
    legalStatus.wrapper,
    plan.wrapper,
    region.wrapper,
    needs.wrapper,
    ethnicity.wrapper,
    religion.wrapper,
  );
  return { element, check, read, clearErrors: () => errors.clear(), showServerError };
}
