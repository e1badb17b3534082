// "Search" (#/search): the child or family cases published to my
// organisation, narrowed by filters, a page at a time. The filters and the
// page go into the address (#/search?kind=children&min_age=4&page=2), so
// Back from a case returns to the same results. Each result opens its
// case page, where a child's case takes an expression of interest.

import { searchCases } from '../api.js';
import { focusElement, h } from '../dom.js';
import { t, tPlural } from '../i18n.js';
import { FormErrors, codeSelect, readWholeNumber, wholeNumberField } from './case-form-parts.js';
import { caseItem } from './cases.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import { fieldGroup, radioGroup } from './fields.js';
import {
  LEGAL_STATUSES,
  MAX_AGE_YEARS,
  MAX_GROUP_SIZE,
  NEED_AREAS,
  NEED_LEVELS,
  PLANS,
  REGIONS,
  codeLabel,
  sectionPage,
} from './family-finding.js';

const KINDS = ['children', 'families'];
const MAX_PAGE = 10_000;

/**
 * The filters of each search: `number` filters with their range, and
 * `code` filters with their catalogue list and codes.
 */
const FILTERS = {
  children: [
    { name: 'min_age', number: [0, MAX_AGE_YEARS] },
    { name: 'max_age', number: [0, MAX_AGE_YEARS] },
    { name: 'min_group_size', number: [1, MAX_GROUP_SIZE] },
    { name: 'max_group_size', number: [1, MAX_GROUP_SIZE] },
    { name: 'region', code: ['region', REGIONS] },
    { name: 'legal_status', code: ['legal_status', LEGAL_STATUSES] },
    { name: 'plan', code: ['plan', PLANS] },
    ...NEED_AREAS.map((area) => ({ name: `max_need_${area}`, code: ['need', NEED_LEVELS], area })),
  ],
  families: [
    { name: 'age', number: [0, MAX_AGE_YEARS] },
    { name: 'children', number: [1, MAX_GROUP_SIZE] },
    { name: 'region', code: ['region', REGIONS] },
    { name: 'plan', code: ['plan', PLANS] },
    ...NEED_AREAS.map((area) => ({ name: `min_need_${area}`, code: ['need', NEED_LEVELS], area })),
  ],
};

/** Creates the control of one filter of search `kind`, filled from `value`. */
function filterControl(kind, filter, value) {
  const id = `search-${kind}-${filter.name.replaceAll('_', '-')}`;
  const label = filter.area
    ? t(`search.filter.${kind}.need`, { area: codeLabel('need_area', filter.area) })
    : t(`search.filter.${kind}.${filter.name}`);
  if (filter.number) {
    const [min, max] = filter.number;
    const number = /^\d+$/.test(value ?? '') ? Number(value) : null;
    return wholeNumberField({ id, name: filter.name, label, min, max, value: number });
  }
  const [list, codes] = filter.code;
  const control = codeSelect({ id, name: filter.name, label, list, codes, value });
  control.input.options[0].textContent = t('search.any');
  return control;
}

/** Creates the filters of search `kind` in a fieldset, filled from `params`. */
function filterGroup(kind, params, errors) {
  const controls = new Map();
  for (const filter of FILTERS[kind]) {
    const control = filterControl(kind, filter, params.get(filter.name));
    controls.set(filter.name, { filter, control });
    errors.addControl(`${kind}.${filter.name}`, control);
  }
  const group = fieldGroup({
    id: `search-${kind}-filters`,
    legend: t(`search.filters_legend.${kind}`),
    hint: t('search.filters_hint'),
    children: h(
      'div',
      { class: 'search__filters' },
      [...controls.values()].map(({ control }) => control.wrapper),
    ),
  });
  return { group, controls };
}

/** Returns the filters of `filterSet` to send, and the problems found in them. */
function readFilters(kind, filterSet) {
  const values = {};
  const problems = [];
  for (const [name, { filter, control }] of filterSet.controls) {
    const text = control.input.value.trim();
    if (!text) continue;
    if (filter.number) {
      const number = readWholeNumber(control.input, ...filter.number);
      if (number === null) {
        const [min, max] = filter.number;
        problems.push([`${kind}.${name}`, t('search.number_invalid', { min, max })]);
      } else values[name] = number;
    } else values[name] = text;
  }
  if (kind === 'children' && values.min_age > values.max_age) {
    problems.push(['children.min_age', t('search.ages_reversed')]);
  }
  return { values, problems };
}

/** Returns the search's kind, filters and page in the address's query string `query`. */
function parseQuery(query) {
  const params = new URLSearchParams(query ?? '');
  const kind = KINDS.includes(params.get('kind')) ? params.get('kind') : 'children';
  const page = Number(params.get('page'));
  return { kind, params, page: Number.isInteger(page) && page >= 1 && page <= MAX_PAGE ? page : 1 };
}

/** Creates the Previous and Next buttons and the position line of a page of results. */
function pager(found, goTo) {
  const pages = Math.max(1, Math.ceil(found.total / found.page_size));
  if (pages <= 1) return null;
  const previous = h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: t('search.previous'),
    disabled: found.page <= 1,
    on: { click: () => goTo(found.page - 1) },
  });
  const next = h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: t('search.next'),
    disabled: found.page >= pages,
    on: { click: () => goTo(found.page + 1) },
  });
  return h(
    'nav',
    { class: 'pager', attrs: { 'aria-label': t('search.pages_label') } },
    previous,
    h('p', { class: 'pager__position', text: t('search.page_of', { page: found.page, pages }) }),
    next,
  );
}

export async function mount(main, ctx, [query]) {
  const panel = sectionPage(main, ctx, { title: t('search.title'), current: '#/search' });
  if (!panel) return;
  const initial = parseQuery(query);
  const errors = new FormErrors();

  const kind = radioGroup({
    id: 'search-kind',
    name: 'kind',
    legend: t('search.kind_legend'),
    choices: KINDS.map((value) => ({ value, label: t(`search.kind.${value}`) })),
  });
  kind.value = initial.kind;
  const filterSets = Object.fromEntries(
    KINDS.map((each) => {
      const params = initial.kind === each ? initial.params : new URLSearchParams();
      return [each, filterGroup(each, params, errors)];
    }),
  );
  const showFilters = () => {
    for (const each of KINDS) filterSets[each].group.wrapper.hidden = kind.value !== each;
  };
  for (const radio of kind.radios) radio.addEventListener('change', showFilters);
  showFilters();

  const submit = h('button', { type: 'submit', class: 'button', text: t('search.submit') });
  const form = h(
    'form',
    {
      class: 'form search',
      noValidate: true,
      attrs: { role: 'search', 'aria-label': t('search.form_label') },
    },
    kind.wrapper,
    ...KINDS.map((each) => filterSets[each].group.wrapper),
    submit,
  );

  const resultsHeading = h('h2', {
    id: 'search-results-heading',
    text: t('search.results_title'),
    attrs: { tabindex: '-1' },
  });
  const summary = statusRegion('search__summary');
  const alert = alertRegion();
  const list = h('ul', { class: 'case-list', attrs: { 'aria-labelledby': resultsHeading.id } });
  const pagerSlot = h('div', {});
  panel.append(
    h('p', { text: t('search.intro') }),
    form,
    h(
      'section',
      { class: 'ff-section', attrs: { 'aria-labelledby': resultsHeading.id } },
      resultsHeading,
      summary,
      alert,
      list,
      pagerSlot,
    ),
  );

  // Only the newest search's response is shown, whatever order they arrive in.
  let sequence = 0;
  /** Runs the search of `kindValue` with `filters` at `page`, and records it in the address. */
  async function run(kindValue, filters, page, { focusResults }) {
    sequence += 1;
    const mine = sequence;
    alert.textContent = '';
    summary.textContent = t('search.searching');
    const query = new URLSearchParams({ kind: kindValue, ...filters });
    if (page > 1) query.set('page', String(page));
    history.replaceState(history.state, '', `#/search?${query}`);
    try {
      const found = await searchCases(kindValue, { ...filters, page });
      if (ctx.signal.aborted || mine !== sequence) return;
      // A page past the end, such as one kept in the address while cases
      // went away, shows the last page instead.
      const lastPage = Math.max(1, Math.ceil(found.total / found.page_size));
      if (found.results.length === 0 && page > lastPage) {
        await run(kindValue, filters, lastPage, { focusResults });
        return;
      }
      list.replaceChildren(...found.results.map((result) => caseItem(result)));
      const key = `search.found.${kindValue}`;
      summary.textContent =
        found.total === 0 ? t(`search.none.${kindValue}`) : tPlural(key, found.total);
      pagerSlot.replaceChildren(
        pager(found, (next) => run(kindValue, filters, next, { focusResults: true })) ?? '',
      );
      if (focusResults) focusElement(resultsHeading);
    } catch (error) {
      if (ctx.signal.aborted || mine !== sequence) return;
      summary.textContent = '';
      const slot = `${kindValue}.${error.field}`;
      const shown =
        error.code === 'request.invalid_field' &&
        errors.has(slot) &&
        errors.show([[slot, describeError(error)]]);
      if (!shown) alert.textContent = describeError(error);
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    errors.clear();
    const chosen = kind.value ?? 'children';
    const { values, problems } = readFilters(chosen, filterSets[chosen]);
    if (problems.length > 0) {
      errors.show(problems);
      return;
    }
    run(chosen, values, 1, { focusResults: true });
  });

  const { values } = readFilters(initial.kind, filterSets[initial.kind]);
  await run(initial.kind, values, initial.page, { focusResults: false });
}
