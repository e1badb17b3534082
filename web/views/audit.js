// "Audit trail" (#/audit), for managers: my organisation's audit trail,
// newest first, a page at a time with a button for older entries. People
// appear by their pseudonymous id, as the trail stores them.

import { fetchAuditTrail } from '../api.js';
import { focusElement, h } from '../dom.js';
import { formatTime } from '../format.js';
import { hasMessage, t, tPlural } from '../i18n.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import { isManager, sectionPage } from './family-finding.js';

const PAGE_SIZE = 50;

function actionText(action) {
  const key = `audit.action.${action}`;
  return hasMessage(key) ? t(key) : action;
}

/** Writes the detail of a row as `name: value` pairs, the values as JSON. */
function detailText(detail) {
  if (!detail || typeof detail !== 'object') return '';
  return Object.entries(detail)
    .map(([name, value]) => `${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('; ');
}

/** Creates the subject of a row: its kind and id, the id a link when the subject is a case. */
function subjectCell(row) {
  const key = `audit.subject.${row.subject_kind}`;
  const kind = hasMessage(key) ? t(key) : (row.subject_kind ?? '');
  if (!row.subject_id) return kind;
  const id =
    row.subject_kind === 'case'
      ? h('a', { href: `#/cases/${row.subject_id}`, class: 'audit__id', text: row.subject_id })
      : h('span', { class: 'audit__id', text: row.subject_id });
  return [kind, ' ', id];
}

function auditRow(row) {
  return h(
    'tr',
    { dataset: { seq: String(row.seq) } },
    h('td', {}, h('time', { dateTime: row.occurred_at, text: formatTime(row.occurred_at) })),
    h('td', { text: actionText(row.action) }),
    h('td', {}, subjectCell(row)),
    h('td', { class: 'audit__id', text: row.actor_id ?? t('audit.no_actor') }),
    h('td', { class: 'audit__detail', text: detailText(row.detail) }),
  );
}

export async function mount(main, ctx) {
  const panel = sectionPage(main, ctx, { title: t('audit.title'), current: '#/audit' });
  if (!panel) return;
  if (!isManager(ctx.user)) {
    panel.append(h('p', { text: t('audit.managers_only') }));
    return;
  }
  const loading = statusRegion();
  const alert = alertRegion();
  const body = h('tbody', {});
  const table = h(
    'div',
    {
      class: 'table-scroll',
      attrs: { role: 'region', tabindex: '0', 'aria-labelledby': 'audit-heading' },
    },
    h(
      'table',
      { class: 'data-table', attrs: { 'aria-labelledby': 'audit-heading' } },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['audit.when', 'audit.action', 'audit.subject', 'audit.actor', 'audit.detail'].map(
            (key) => h('th', { scope: 'col', text: t(key) }),
          ),
        ),
      ),
      body,
    ),
  );
  const more = h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: t('audit.older'),
    hidden: true,
  });
  panel.append(
    h('p', { text: t('audit.intro') }),
    h('h2', { class: 'data-table__title', id: 'audit-heading', text: t('audit.caption') }),
    loading,
    alert,
    table,
    h('div', { class: 'actions' }, more),
  );

  let oldest = null;
  async function load() {
    loading.textContent = t('app.loading');
    more.disabled = true;
    try {
      const rows = await fetchAuditTrail(PAGE_SIZE, oldest);
      if (ctx.signal.aborted) return;
      const added = rows.map(auditRow);
      body.append(...added);
      if (rows.length > 0) oldest = rows[rows.length - 1].seq;
      more.hidden = rows.length < PAGE_SIZE;
      const shown = body.children.length;
      loading.textContent = shown === 0 ? t('audit.empty') : tPlural('audit.shown', shown);
      return added[0] ?? null;
    } catch (error) {
      if (!ctx.signal.aborted) {
        loading.textContent = '';
        alert.textContent = describeError(error);
      }
      return null;
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener('click', async () => {
    const first = await load();
    // The button may be gone with the last page, so focus goes to the first new row.
    if (first && more.hidden) focusElement(first.firstElementChild);
  });
  await load();
}
