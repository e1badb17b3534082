// Pieces shared by the family-finding pages: the code lists of profiles
// with their catalogue labels, who may use which page, the section's own
// navigation, and how a case summary is named and described.

import { h } from '../dom.js';
import { hasMessage, t, tPlural } from '../i18n.js';
import { pageHeading } from './common.js';

/** Code lists, in the order the server's documentation gives them. */
export const REGIONS = [
  'north_east',
  'north_west',
  'yorkshire_and_humber',
  'east_midlands',
  'west_midlands',
  'east_of_england',
  'london',
  'south_east',
  'south_west',
  'wales',
  'scotland',
  'northern_ireland',
];
export const LEGAL_STATUSES = [
  'placement_order',
  'care_order',
  'interim_care_order',
  'accommodated',
  'other',
];
export const PLANS = ['adoption', 'long_term_fostering', 'short_term_fostering'];
/** Need levels, lowest first. */
export const NEED_LEVELS = ['none', 'low', 'moderate', 'high'];
export const NEED_AREAS = ['health', 'development', 'history'];
export const ETHNICITIES = ['white', 'mixed', 'asian', 'black', 'other', 'not_recorded'];
export const ORGANISATION_KINDS = [
  'local_authority',
  'voluntary_adoption_agency',
  'independent_fostering_provider',
];

/** Oldest age in years a child or an offer can have, and most children in one case. */
export const MAX_AGE_YEARS = 17;
export const MAX_GROUP_SIZE = 8;

/** Roles whose holders work on cases, as the server allows. */
const CASE_ROLES = new Set(['practitioner', 'manager']);

export function worksOnCases(user) {
  return (user?.roles ?? []).some((role) => CASE_ROLES.has(role));
}

export function isManager(user) {
  return (user?.roles ?? []).includes('manager');
}

export function isOperator(user) {
  return (user?.roles ?? []).includes('platform_admin');
}

/** Roles of an organisation's staff and of the platform operator, who are never a case's family. */
const STAFF_ROLES = new Set(['practitioner', 'manager', 'platform_admin']);

/**
 * Returns whether `user` is a family who keeps its own profile: the
 * `adopter` role and no staff role. The server lets such an account read
 * its own family case and nothing else in family finding.
 */
export function isFamilyAccount(user) {
  const roles = user?.roles ?? [];
  return roles.includes('adopter') && !roles.some((role) => STAFF_ROLES.has(role));
}

/**
 * Returns the label of `code` in the catalogue's list `list` (such as
 * `region`), or a sentence that shows the unknown code itself.
 */
export function codeLabel(list, code) {
  const key = `codes.${list}.${code}`;
  return hasMessage(key) ? t(key) : t('codes.unknown', { code: String(code) });
}

/** Returns `{ value, label }` choices for every code of `codes` in the list `list`. */
export function codeOptions(list, codes) {
  return codes.map((value) => ({ value, label: codeLabel(list, value) }));
}

/** Formats an age range in years, as one age when both ends are equal. */
export function agesText(minAge, maxAge) {
  if (minAge === maxAge) return tPlural('cases.age', minAge);
  return t('cases.age_range', { min: minAge, max: maxAge });
}

/**
 * Returns the name a case summary is shown by. The server sends an
 * anonymous case of another organisation with its names left out, so its
 * title is empty or only separators.
 */
export function caseTitle(summary) {
  const title = (summary.title ?? '').replace(/[,\s]/g, '');
  if (title) return summary.title;
  return t(summary.kind === 'family' ? 'cases.hidden_family' : 'cases.hidden_child');
}

/** Returns the name a whole case (from GET /cases/{id}) is shown by, as `caseTitle` does. */
export function profileTitle(loaded) {
  const profile = loaded.profile ?? {};
  const title =
    loaded.kind === 'family'
      ? profile.household_name
      : (profile.children ?? []).map((child) => child.first_name).join(', ');
  return caseTitle({ kind: loaded.kind, title });
}

/** Describes a case summary's children or offer, region and organisation in one line. */
export function caseFacts(summary) {
  const ages = agesText(summary.min_age, summary.max_age);
  const group =
    summary.kind === 'family'
      ? tPlural('cases.offer_children', summary.group_size, { ages })
      : tPlural('cases.group', summary.group_size, { ages });
  return t('cases.facts', {
    group,
    region: codeLabel('region', summary.region),
    organisation: summary.organisation?.name ?? '',
  });
}

/** Returns the label of who a case is published to. */
export function visibilityText(visibility) {
  return codeLabel('visibility', visibility);
}

/** The managers' page of the cases marked for deletion. */
export const MARKED_CASES_ROUTE = '#/cases/marked';

const SECTION_PAGES = [
  ['#/cases', 'nav.ff.cases'],
  ['#/search', 'nav.ff.search'],
  ['#/interests', 'nav.ff.interests'],
  ['#/statistics', 'nav.ff.statistics'],
];

/**
 * Creates the navigation between the family-finding pages, with `current`
 * (a route such as `#/cases`) marked as the page shown. Managers also get
 * their organisation's cases marked for deletion and its audit trail.
 */
export function sectionNav(ctx, current) {
  const pages = isManager(ctx.user)
    ? [...SECTION_PAGES, [MARKED_CASES_ROUTE, 'nav.ff.marked'], ['#/audit', 'nav.ff.audit']]
    : SECTION_PAGES;
  return h(
    'nav',
    { class: 'section-nav', attrs: { 'aria-label': t('nav.ff.label') } },
    h(
      'ul',
      { class: 'section-nav__list' },
      pages.map(([href, key]) =>
        h(
          'li',
          {},
          h('a', {
            href,
            class: 'section-nav__link',
            text: t(key),
            attrs: { 'aria-current': href === current ? 'page' : null },
          }),
        ),
      ),
    ),
  );
}

/**
 * Starts a family-finding page in `main`: the section's navigation with
 * `current` marked, and a panel with the page's heading `title`. Returns
 * the panel, or null after explaining that the page is for practitioners
 * and managers only.
 */
export function sectionPage(main, ctx, { title, current }) {
  ctx.setTitle(title);
  const panel = h('section', { class: 'panel' }, pageHeading(title));
  if (!worksOnCases(ctx.user)) {
    panel.append(h('p', { text: t('ff.staff_only') }));
    main.append(panel);
    return null;
  }
  main.append(sectionNav(ctx, current), panel);
  return panel;
}

/**
 * Starts the page of one case, as `sectionPage` does. A family that keeps
 * its own profile gets the panel without the section's navigation,
 * because the other family-finding pages are for workers only.
 */
export function casePage(main, ctx, { title, current }) {
  if (!isFamilyAccount(ctx.user)) return sectionPage(main, ctx, { title, current });
  ctx.setTitle(title);
  const panel = h('section', { class: 'panel' }, pageHeading(title));
  main.append(panel);
  return panel;
}
