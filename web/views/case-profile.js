// The profile of a case as a list of terms and descriptions, for the case
// page. Names that my organisation may not read arrive empty, and the page
// writes "Name hidden" in their place.

import { h } from '../dom.js';
import { formatDate } from '../format.js';
import { currentLanguage, t, tPlural } from '../i18n.js';
import { NEED_AREAS, agesText, codeLabel } from './family-finding.js';

function entry(term, ...description) {
  return [h('dt', { text: term }), h('dd', {}, ...description)];
}

/** Creates a free text, whose line breaks the styles keep, or the words "Not given". */
function paragraphs(text) {
  if (!text) return h('span', { class: 'empty', text: t('case.not_given') });
  return h('div', { class: 'case-profile__text' }, text);
}

function childrenList(children) {
  return h(
    'ul',
    { class: 'case-profile__children' },
    children.map((child) =>
      h('li', {
        text: t('case.child_line', {
          name: child.first_name || t('case.name_hidden'),
          age: tPlural('cases.age', child.age_years),
        }),
      }),
    ),
  );
}

/** Creates a line per area of need with its level, a code of catalogue list `list`, and notes. */
function needsList(needs, notes, list) {
  return h(
    'ul',
    { class: 'case-profile__needs' },
    NEED_AREAS.map((area) =>
      h(
        'li',
        {},
        t('case.need_line', {
          area: codeLabel('need_area', area),
          level: codeLabel(list, needs?.[area]),
        }),
        notes?.[area] ? h('div', { class: 'case-profile__text', text: notes[area] }) : null,
      ),
    ),
  );
}

function childEntries(profile) {
  return [
    entry(t('case.children'), childrenList(profile.children ?? [])),
    entry(t('case.description'), paragraphs(profile.description)),
    entry(t('case.legal_status'), codeLabel('legal_status', profile.legal_status)),
    entry(t('case.plan'), codeLabel('plan', profile.plan)),
    entry(t('case.region'), codeLabel('region', profile.region)),
    entry(t('case.needs'), needsList(profile.needs, profile.need_notes, 'need')),
    entry(t('case.ethnicity'), codeLabel('ethnicity', profile.ethnicity)),
    entry(t('case.religion'), paragraphs(profile.religion)),
  ];
}

function familyEntries(profile) {
  const offer = profile.offer ?? {};
  const plans = (profile.approved_for ?? []).map((plan) => codeLabel('plan', plan));
  return [
    entry(t('case.household_name'), profile.household_name || t('case.name_hidden')),
    entry(t('case.description'), paragraphs(profile.household_description)),
    entry(
      t('case.approved_for'),
      new Intl.ListFormat(currentLanguage(), { type: 'conjunction' }).format(plans),
    ),
    entry(t('case.approval_date'), formatDate(profile.approval_date)),
    entry(t('case.region'), codeLabel('region', profile.region)),
    entry(t('case.ethnicity'), codeLabel('ethnicity', profile.ethnicity)),
    entry(t('case.offer_ages'), agesText(offer.min_age, offer.max_age)),
    entry(t('case.offer_children'), tPlural('matches.up_to_children', offer.max_children)),
    entry(t('case.offer_needs'), needsList(offer.needs, null, 'need_up_to')),
  ];
}

/** Creates the profile of `loaded` (a case from GET /cases/{id}) as a description list. */
export function profileList(loaded) {
  const profile = loaded.profile ?? {};
  const entries = loaded.kind === 'family' ? familyEntries(profile) : childEntries(profile);
  return h('dl', { class: 'case-profile' }, entries.flat());
}
