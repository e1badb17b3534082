// "Statistics" (#/statistics): how often other organisations opened each
// of my organisation's cases, and the national sufficiency tables, families
// by region and ethnic group and waiting children by age band. The server
// suppresses small counts, sent as null, which the tables show as fewer
// than 5 or withheld, never as 0.

import { fetchProfileViews, fetchSufficiency } from '../api.js';
import { h } from '../dom.js';
import { currentLanguage, t } from '../i18n.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import { caseTitle, codeLabel, sectionPage } from './family-finding.js';

function countText(count) {
  if (count === null || count === undefined) return t('statistics.suppressed');
  return new Intl.NumberFormat(currentLanguage()).format(count);
}

function countCell(count) {
  const suppressed = count === null || count === undefined;
  return h('td', {
    class: suppressed ? 'number number--suppressed' : 'number',
    text: countText(count),
  });
}

/**
 * Creates a table under a heading, in a region that scrolls sideways on
 * narrow screens, which keyboard users can focus to scroll. The heading
 * stays outside the region, so that it wraps to the screen's width.
 */
function scrollingTable(id, title, head, body, foot = null) {
  const headingId = `${id}-heading`;
  return [
    h('h3', { class: 'data-table__title', id: headingId, text: title }),
    h(
      'div',
      {
        class: 'table-scroll',
        attrs: { role: 'region', tabindex: '0', 'aria-labelledby': headingId },
      },
      h(
        'table',
        { class: 'data-table', id, attrs: { 'aria-labelledby': headingId } },
        h('thead', {}, head),
        h('tbody', {}, body),
        foot ? h('tfoot', {}, foot) : null,
      ),
    ),
  ];
}

/** Creates a row of column headers, the first for row labels and the others over counts. */
function headerRow(cells) {
  return h(
    'tr',
    {},
    cells.map((text, index) => h('th', { scope: 'col', class: index > 0 ? 'number' : null, text })),
  );
}

function viewsTable(rows) {
  return scrollingTable(
    'views-table',
    t('statistics.views_caption'),
    h(
      'tr',
      {},
      h('th', { scope: 'col', text: t('statistics.case') }),
      h('th', { scope: 'col', text: t('statistics.kind') }),
      h('th', { scope: 'col', class: 'number', text: t('statistics.views') }),
    ),
    rows.map((row) =>
      h(
        'tr',
        {},
        h(
          'th',
          { scope: 'row' },
          h('a', { href: `#/cases/${row.case.id}`, text: caseTitle(row.case) }),
        ),
        h('td', { text: t(`statistics.kind.${row.case.kind === 'family' ? 'family' : 'child'}`) }),
        countCell(row.views),
      ),
    ),
  );
}

function familiesTable(families) {
  const columns = families.columns ?? [];
  return scrollingTable(
    'families-table',
    t('statistics.families_caption'),
    headerRow([
      t('statistics.region'),
      ...columns.map((column) => codeLabel('ethnicity', column)),
      t('statistics.total'),
    ]),
    (families.rows ?? []).map((row) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row', text: codeLabel('region', row.label) }),
        row.cells.map(countCell),
        countCell(row.total),
      ),
    ),
    h(
      'tr',
      {},
      h('th', { scope: 'row', text: t('statistics.all_regions') }),
      (families.column_totals ?? []).map(countCell),
      countCell(families.total),
    ),
  );
}

function childrenTable(children) {
  return scrollingTable(
    'children-table',
    t('statistics.children_caption'),
    headerRow([t('statistics.age_band'), t('statistics.children')]),
    (children.entries ?? []).map((entry) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row', text: codeLabel('age_band', entry.label) }),
        countCell(entry.count),
      ),
    ),
    h(
      'tr',
      {},
      h('th', { scope: 'row', text: t('statistics.all_ages') }),
      countCell(children.total),
    ),
  );
}

/** Creates a section with a heading, an intro, loading and alert regions and a slot for its table. */
function section(id, titleKey, introKey) {
  const loading = statusRegion();
  const alert = alertRegion();
  const slot = h('div', {});
  const element = h(
    'section',
    { class: 'ff-section', attrs: { 'aria-labelledby': `${id}-heading` } },
    h('h2', { id: `${id}-heading`, text: t(titleKey) }),
    h('p', { text: t(introKey) }),
    loading,
    alert,
    slot,
  );
  return { element, loading, alert, slot };
}

/** Runs `request` and fills `part` with what `build` makes of its result. */
async function fill(ctx, part, request, build) {
  part.loading.textContent = t('app.loading');
  try {
    const result = await request();
    if (ctx.signal.aborted) return;
    part.slot.replaceChildren(...[build(result)].flat(2));
  } catch (error) {
    if (!ctx.signal.aborted) part.alert.textContent = describeError(error);
  } finally {
    if (!ctx.signal.aborted) part.loading.textContent = '';
  }
}

export async function mount(main, ctx) {
  const panel = sectionPage(main, ctx, { title: t('statistics.title'), current: '#/statistics' });
  if (!panel) return;
  const views = section('profile-views', 'statistics.views_title', 'statistics.views_intro');
  const sufficiency = section(
    'sufficiency',
    'statistics.sufficiency_title',
    'statistics.sufficiency_intro',
  );
  panel.append(views.element, sufficiency.element);
  await Promise.all([
    fill(ctx, views, fetchProfileViews, (rows) =>
      rows.length > 0
        ? viewsTable(rows)
        : h('p', { class: 'empty', text: t('statistics.views_empty') }),
    ),
    fill(ctx, sufficiency, fetchSufficiency, (counts) => [
      familiesTable(counts.families ?? {}),
      childrenTable(counts.children ?? {}),
    ]),
  ]);
}
