// "Cases", the first family-finding page: my organisation's child cases
// and family cases in two lists, each case with who it is published to,
// and links to create a case of either kind.

import { fetchOwnCases } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import { caseFacts, caseTitle, codeLabel, sectionPage, visibilityText } from './family-finding.js';

/** Creates the list item of one case summary, its title linking to the case page. */
export function caseItem(summary, { headingLevel = 'h3', extra = [] } = {}) {
  return h(
    'li',
    { class: 'case-card', dataset: { caseId: summary.id } },
    h(
      headingLevel,
      { class: 'case-card__title' },
      h('a', { href: `#/cases/${summary.id}`, text: caseTitle(summary) }),
    ),
    h('p', { class: 'case-card__meta', text: caseFacts(summary) }),
    badges(summary),
    extra,
  );
}

/**
 * Creates the badges of a case summary, or returns null when it has none.
 * My organisation's own cases show who they are published to and whether
 * names are hidden. Any case shows its status once it is no longer waiting.
 */
function badges(summary) {
  const list = [];
  if (summary.own) {
    list.push(h('span', { class: 'badge', text: visibilityText(summary.visibility) }));
    if (summary.anonymous) list.push(h('span', { class: 'badge', text: t('cases.anonymous') }));
  }
  if (summary.status !== 'active') {
    list.push(h('span', { class: 'badge', text: codeLabel('case_status', summary.status) }));
  }
  if (list.length === 0) return null;
  return h(
    'p',
    { class: 'case-card__meta' },
    list.flatMap((badge, index) => (index === 0 ? [badge] : [' ', badge])),
  );
}

/** Creates the section listing my organisation's cases of `kind` and starts loading it. */
function caseSection(ctx, kind) {
  const headingId = `cases-${kind}-heading`;
  const loading = statusRegion();
  const alert = alertRegion();
  const list = h('ul', { class: 'case-list', attrs: { 'aria-labelledby': headingId } });
  const load = async () => {
    loading.textContent = t('app.loading');
    try {
      const summaries = await fetchOwnCases(kind);
      if (ctx.signal.aborted) return;
      list.replaceChildren(...summaries.map((summary) => caseItem(summary)));
      if (summaries.length === 0) {
        list.append(h('li', { class: 'empty', text: t(`cases.empty.${kind}`) }));
      }
    } catch (error) {
      if (!ctx.signal.aborted) alert.textContent = describeError(error);
    } finally {
      if (!ctx.signal.aborted) loading.textContent = '';
    }
  };
  const element = h(
    'section',
    { class: 'ff-section', attrs: { 'aria-labelledby': headingId } },
    h('h2', { id: headingId, text: t(`cases.heading.${kind}`) }),
    h(
      'p',
      {},
      h('a', { href: `#/cases/new/${kind}`, class: 'button', text: t(`cases.create.${kind}`) }),
    ),
    loading,
    alert,
    list,
  );
  return { element, load };
}

export async function mount(main, ctx) {
  const panel = sectionPage(main, ctx, { title: t('cases.title'), current: '#/cases' });
  if (!panel) return;
  const children = caseSection(ctx, 'child');
  const families = caseSection(ctx, 'family');
  panel.append(h('p', { text: t('cases.intro') }), children.element, families.element);
  await Promise.all([children.load(), families.load()]);
}
