// "Marked for deletion" (#/cases/marked), for managers: my organisation's
// cases marked for deletion, the earliest marked first, each with why and
// when it was marked, when the nightly sweep may anonymise it, and a Keep
// button. A marked case is hidden from everyone, so its title links
// nowhere until it is kept.

import { fetchMarkedCases, keepCase } from '../api.js';
import { focusElement, h } from '../dom.js';
import { formatDay, formatDayAndTime } from '../format.js';
import { t } from '../i18n.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import {
  caseFacts,
  caseTitle,
  codeLabel,
  isManager,
  MARKED_CASES_ROUTE,
  sectionPage,
} from './family-finding.js';

const LIST_HEADING_ID = 'marked-cases-heading';

/** Returns the sentence that confirms `title` is kept, with a link to the case. */
function keptMessage(summary, title) {
  return [
    t('marked_cases.kept', { title }),
    ' ',
    h('a', { href: `#/cases/${summary.id}`, text: t('marked_cases.open_case', { title }) }),
  ];
}

/**
 * Creates the list item of one marked case. Its Keep button calls
 * `onKeep(item, button, summary, title)`.
 */
function markedItem(summary, onKeep) {
  const title = caseTitle(summary);
  const keepButton = h(
    'button',
    { type: 'button', class: 'button button--secondary' },
    t('marked_cases.keep'),
    h('span', { class: 'visually-hidden', text: ` ${title}` }),
  );
  const item = h(
    'li',
    { class: 'case-card', dataset: { caseId: summary.id } },
    h('h3', { class: 'case-card__title', text: title }),
    h('p', { class: 'case-card__meta', text: t(`marked_cases.kind.${summary.kind}`) }),
    h('p', { class: 'case-card__meta', text: caseFacts(summary) }),
    h('p', {
      text: t('marked_cases.reason', { reason: codeLabel('mark_reason', summary.reason) }),
    }),
    h(
      'p',
      {},
      t('marked_cases.marked_on', { date: formatDay(summary.marked_at) }),
      ' ',
      t('marked_cases.final_step', { time: formatDayAndTime(summary.final_step_at) }),
    ),
    h('div', { class: 'actions' }, keepButton),
  );
  keepButton.addEventListener('click', () => onKeep(item, keepButton, summary, title));
  return item;
}

export async function mount(main, ctx) {
  const panel = sectionPage(main, ctx, {
    title: t('marked_cases.title'),
    current: MARKED_CASES_ROUTE,
  });
  if (!panel) return;
  if (!isManager(ctx.user)) {
    panel.append(h('p', { text: t('marked_cases.managers_only') }));
    return;
  }

  const loading = statusRegion();
  const notice = statusRegion();
  const alert = alertRegion();
  const listHeading = h('h2', {
    id: LIST_HEADING_ID,
    text: t('marked_cases.list_heading'),
    attrs: { tabindex: '-1' },
  });
  const list = h('ul', { class: 'case-list', attrs: { 'aria-labelledby': LIST_HEADING_ID } });
  const emptyItem = () => h('li', { class: 'empty', text: t('marked_cases.empty') });

  /** Removes `item` and moves focus to the next Keep button, or to the list's heading. */
  function removeItem(item) {
    const neighbour = item.nextElementSibling ?? item.previousElementSibling;
    item.remove();
    if (list.children.length === 0) list.append(emptyItem());
    focusElement(neighbour?.querySelector('button') ?? listHeading);
  }

  let busy = false;
  async function keep(item, button, summary, title) {
    if (busy) return;
    busy = true;
    button.disabled = true;
    notice.replaceChildren();
    alert.textContent = '';
    try {
      await keepCase(summary.id);
      if (ctx.signal.aborted) return;
      notice.replaceChildren(...keptMessage(summary, title));
      removeItem(item);
    } catch (error) {
      if (ctx.signal.aborted) return;
      if (error.code === 'resource.conflict') {
        // Another manager kept the case, or put it on legal hold, meanwhile.
        notice.textContent = t('marked_cases.no_longer_marked', { title });
        removeItem(item);
        return;
      }
      let text = describeError(error);
      if (error.code === 'request.forbidden') text = t('marked_cases.keep_forbidden');
      alert.textContent = text;
      focusElement(alert);
      button.disabled = false;
    } finally {
      busy = false;
    }
  }

  panel.append(
    h('p', { text: t('marked_cases.intro') }),
    loading,
    notice,
    alert,
    listHeading,
    list,
  );
  loading.textContent = t('app.loading');
  try {
    const marked = await fetchMarkedCases();
    if (ctx.signal.aborted) return;
    list.replaceChildren(...marked.map((summary) => markedItem(summary, keep)));
    if (marked.length === 0) list.append(emptyItem());
  } catch (error) {
    if (!ctx.signal.aborted) alert.textContent = describeError(error);
  } finally {
    if (!ctx.signal.aborted) loading.textContent = '';
  }
}
