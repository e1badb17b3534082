// The fields of a family case: the household's name and description, the
// plans it is approved for, the approval date, region and ethnic group.
// The offer follows: an age range, the maximum number of children, and the
// highest level of need the family can meet in each area. The limits are
// the server's, checked here first so that each message sits next to its
// field. A family editing its own profile sees the approval as text,
// because only its organisation may change it, and the form sends it back
// as it was.

import { h } from '../dom.js';
import { formatDate } from '../format.js';
import { currentLanguage, t } from '../i18n.js';
import {
  FormErrors,
  charCount,
  codeSelect,
  readWholeNumber,
  textArea,
  todayUtc,
  wholeNumberField,
} from './case-form-parts.js';
import { checkboxField, field, fieldGroup } from './fields.js';
import {
  ETHNICITIES,
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

/** Creates the plan checkboxes, with those in `approved` ticked. */
function plansGroup(approved) {
  const boxes = PLANS.map((plan) => {
    const box = checkboxField({
      id: `case-approved-${plan}`,
      name: 'approved_for',
      label: codeLabel('plan', plan),
    });
    box.input.value = plan;
    box.input.checked = approved.includes(plan);
    return box;
  });
  const group = fieldGroup({
    id: 'case-approved-for',
    legend: t('case_form.approved_for_legend'),
    hint: t('case_form.approved_for_hint'),
    className: 'field group choices',
    children: boxes.map((box) => box.wrapper),
  });
  const checked = () => boxes.filter((box) => box.input.checked).map((box) => box.input.value);
  return { group, checked };
}

/**
 * Creates the approval as text, for a family that may not change it:
 * the plans it is approved for and the approval date, as `organisation`
 * recorded them.
 */
function approvalText(profile, organisation) {
  const plans = (profile.approved_for ?? []).map((plan) => codeLabel('plan', plan));
  const headingId = 'case-approval-heading';
  const hintId = 'case-approval-hint';
  return h(
    'div',
    {
      class: 'field',
      attrs: { role: 'group', 'aria-labelledby': headingId, 'aria-describedby': hintId },
    },
    h('p', { class: 'field__label', id: headingId, text: t('case_form.approval_legend') }),
    h('p', {
      class: 'field__hint',
      id: hintId,
      text: t('case_form.approval_read_only', { organisation }),
    }),
    h(
      'dl',
      { class: 'case-profile' },
      h('dt', { text: t('case.approved_for') }),
      h('dd', {
        text: new Intl.ListFormat(currentLanguage(), { type: 'conjunction' }).format(plans),
      }),
      h('dt', { text: t('case.approval_date') }),
      h('dd', { text: profile.approval_date ? formatDate(profile.approval_date) : '' }),
    ),
  );
}

/** Creates the offer's fields: youngest and oldest age, most children and the need levels. */
function offerGroup(offer) {
  const minAge = wholeNumberField({
    id: 'case-offer-min-age',
    name: 'offer.min_age',
    label: t('case_form.offer_min_age_label'),
    min: 0,
    max: MAX_AGE_YEARS,
    value: offer.min_age,
  });
  const maxAge = wholeNumberField({
    id: 'case-offer-max-age',
    name: 'offer.max_age',
    label: t('case_form.offer_max_age_label'),
    min: 0,
    max: MAX_AGE_YEARS,
    value: offer.max_age,
  });
  const maxChildren = wholeNumberField({
    id: 'case-offer-max-children',
    name: 'offer.max_children',
    label: t('case_form.offer_max_children_label'),
    hint: t('case_form.offer_max_children_hint'),
    min: 1,
    max: MAX_GROUP_SIZE,
    value: offer.max_children,
  });
  const needs = Object.fromEntries(
    NEED_AREAS.map((area) => [
      area,
      codeSelect({
        id: `case-offer-need-${area}`,
        name: `offer.needs.${area}`,
        label: t('case_form.offer_need_label', { area: codeLabel('need_area', area) }),
        list: 'need',
        codes: NEED_LEVELS,
        value: offer.needs?.[area],
      }),
    ]),
  );
  const group = fieldGroup({
    id: 'case-offer',
    legend: t('case_form.offer_legend'),
    hint: t('case_form.offer_hint'),
    children: [
      h('div', { class: 'agreement-row__fields' }, minAge.wrapper, maxAge.wrapper),
      maxChildren.wrapper,
      ...NEED_AREAS.map((area) => needs[area].wrapper),
    ],
  });
  return { group, minAge, maxAge, maxChildren, needs };
}

/**
 * Creates the family case fields, filled from `profile` when editing.
 * With `approvalReadOnly`, the approval shows as text with the name of
 * `organisation`, which recorded it, and `read()` returns it unchanged.
 * Returns `{ element, check(), read(), clearErrors(), showServerError() }`
 * as the child case form does.
 */
export function familyCaseForm(profile = {}, { approvalReadOnly = false, organisation = '' } = {}) {
  const errors = new FormErrors();
  const name = field({
    id: 'case-household-name',
    name: 'household_name',
    label: t('case_form.household_name_label'),
    hint: t('case_form.household_name_hint'),
    attrs: { maxlength: NAME_MAX_CHARS, autocomplete: 'off' },
  });
  name.input.value = profile.household_name ?? '';
  const description = textArea({
    id: 'case-household-description',
    name: 'household_description',
    label: t('case_form.household_description_label'),
    hint: t('case_form.household_description_hint'),
    maxLength: DESCRIPTION_MAX_CHARS,
    value: profile.household_description,
    rows: 6,
  });
  const plans = plansGroup(profile.approved_for ?? []);
  const approvalDate = field({
    id: 'case-approval-date',
    name: 'approval_date',
    type: 'date',
    label: t('case_form.approval_date_label'),
    hint: t('case_form.approval_date_hint'),
    attrs: { max: todayUtc() },
  });
  approvalDate.input.classList.add('field__input--date');
  approvalDate.input.value = profile.approval_date ?? '';
  const region = codeSelect({
    id: 'case-region',
    name: 'region',
    label: t('case_form.family_region_label'),
    list: 'region',
    codes: REGIONS,
    value: profile.region,
  });
  const ethnicity = codeSelect({
    id: 'case-ethnicity',
    name: 'ethnicity',
    label: t('case_form.family_ethnicity_label'),
    list: 'ethnicity',
    codes: ETHNICITIES,
    value: profile.ethnicity,
  });
  const offer = offerGroup(profile.offer ?? {});

  errors.addControl('household_name', name);
  errors.addControl('household_description', description);
  if (!approvalReadOnly) {
    errors.addGroup('approved_for', plans.group);
    errors.addControl('approval_date', approvalDate);
  }
  errors.addControl('region', region);
  errors.addControl('ethnicity', ethnicity);
  errors.addControl('offer.min_age', offer.minAge);
  errors.addControl('offer.max_age', offer.maxAge);
  errors.addControl('offer.max_children', offer.maxChildren);
  for (const area of NEED_AREAS) errors.addControl(`offer.needs.${area}`, offer.needs[area]);

  function offerProblems() {
    const problems = [];
    const min = readWholeNumber(offer.minAge.input, 0, MAX_AGE_YEARS);
    const max = readWholeNumber(offer.maxAge.input, 0, MAX_AGE_YEARS);
    if (min === null) problems.push(['offer.min_age', t('case_form.offer_age_invalid')]);
    if (max === null) problems.push(['offer.max_age', t('case_form.offer_age_invalid')]);
    if (min !== null && max !== null && min > max) {
      problems.push(['offer.min_age', t('case_form.offer_ages_reversed')]);
    }
    if (readWholeNumber(offer.maxChildren.input, 1, MAX_GROUP_SIZE) === null) {
      problems.push(['offer.max_children', t('case_form.offer_max_children_invalid')]);
    }
    for (const area of NEED_AREAS) {
      if (!offer.needs[area].input.value) {
        problems.push([`offer.needs.${area}`, t('case_form.offer_need_missing')]);
      }
    }
    return problems;
  }

  function approvalProblems() {
    const problems = [];
    if (plans.checked().length === 0) {
      problems.push(['approved_for', t('case_form.approved_for_missing')]);
    }
    const approved = approvalDate.input.value;
    if (!approved) problems.push(['approval_date', t('case_form.approval_date_missing')]);
    else if (approved > todayUtc()) {
      problems.push(['approval_date', t('case_form.approval_date_future')]);
    }
    return problems;
  }

  function check() {
    errors.clear();
    const problems = [];
    const household = name.input.value.trim();
    if (!household) problems.push(['household_name', t('case_form.household_name_missing')]);
    else if (charCount(household) > NAME_MAX_CHARS) {
      problems.push(['household_name', t('case_form.household_name_long')]);
    }
    if (!description.input.value.trim()) {
      problems.push(['household_description', t('case_form.household_description_missing')]);
    }
    if (!approvalReadOnly) problems.push(...approvalProblems());
    if (!region.input.value) problems.push(['region', t('case_form.region_missing')]);
    if (!ethnicity.input.value) problems.push(['ethnicity', t('case_form.ethnicity_missing')]);
    problems.push(...offerProblems());
    errors.show(problems);
    return problems.length === 0;
  }

  function read() {
    return {
      household_name: name.input.value.trim(),
      household_description: description.input.value.trim(),
      approved_for: approvalReadOnly ? profile.approved_for : plans.checked(),
      approval_date: approvalReadOnly ? profile.approval_date : approvalDate.input.value,
      region: region.input.value,
      ethnicity: ethnicity.input.value,
      offer: {
        min_age: readWholeNumber(offer.minAge.input, 0, MAX_AGE_YEARS),
        max_age: readWholeNumber(offer.maxAge.input, 0, MAX_AGE_YEARS),
        max_children: readWholeNumber(offer.maxChildren.input, 1, MAX_GROUP_SIZE),
        needs: Object.fromEntries(NEED_AREAS.map((area) => [area, offer.needs[area].input.value])),
      },
    };
  }

  function showServerError(fieldName, text) {
    return errors.has(fieldName) && errors.show([[fieldName, text]]);
  }

  const approval = approvalReadOnly
    ? approvalText(profile, organisation)
    : [plans.group.wrapper, approvalDate.wrapper];
  const element = h(
    'div',
    { class: 'form' },
    name.wrapper,
    description.wrapper,
    approval,
    region.wrapper,
    ethnicity.wrapper,
    offer.group.wrapper,
  );
  return { element, check, read, clearErrors: () => errors.clear(), showServerError };
}
