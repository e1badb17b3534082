// "Letters to review", the practitioner's to-do list: the submitted
// letters waiting in the contact links I supervise, oldest first, each
// opening the letter's review; then the exchanges of those links that are
// due soon, due or overdue and that no letter has answered, soonest first.
// Both lists load again when a `letters` frame reports a change in one of
// those links.

import { fetchConversations, fetchExchanges, fetchReviewQueue } from '../api.js';
import { h } from '../dom.js';
import { formatDate, formatTime } from '../format.js';
import { t, tPlural } from '../i18n.js';
import {
  alertRegion,
  describeError,
  otherMemberNames,
  pageHeading,
  statusRegion,
} from './common.js';
import { followLetters, isSupervisor, sideText } from './letter-parts.js';

const EXCHANGE_STATES = new Set(['due_soon', 'due', 'overdue']);

function findingsText(count) {
  return count > 0 ? tPlural('review_queue.findings', count) : t('review_queue.no_findings');
}

function queueItem(item) {
  return h(
    'li',
    { class: 'letter-card', dataset: { letterId: item.letter_id } },
    h(
      'h3',
      { class: 'letter-card__title' },
      h('a', {
        href: `#/letters/${item.letter_id}`,
        class: 'letter-card__link',
        text: t('letters.from', { name: item.writer_name }),
      }),
    ),
    h(
      'p',
      { class: 'letter-card__meta' },
      t('review_queue.meta', {
        side: sideText(item.writer_side),
        version: item.version,
        time: formatTime(item.submitted_at),
      }),
    ),
    h('p', {
      class: item.findings > 0 ? 'badge badge--findings' : 'badge',
      text: findingsText(item.findings ?? 0),
    }),
  );
}

/**
 * Creates the item of an open exchange, naming its link by the members
 * other than me. `summaries` maps conversation ids to their summaries.
 */
function exchangeItem(exchange, summaries, myUserId) {
  const summary = summaries.get(exchange.conversation_id);
  const linkName = summary
    ? t('exchanges.link', { names: otherMemberNames(summary, myUserId) })
    : t('exchanges.link_unknown');
  const state = EXCHANGE_STATES.has(exchange.state) ? exchange.state : 'unknown';
  return h(
    'li',
    {
      class: 'letter-card',
      dataset: { conversationId: exchange.conversation_id, state: exchange.state },
    },
    h(
      'h3',
      { class: 'letter-card__title' },
      h('a', {
        href: `#/conversations/${exchange.conversation_id}`,
        class: 'letter-card__link',
        text: linkName,
      }),
    ),
    h(
      'p',
      { class: 'letter-card__meta' },
      h('span', { class: `badge badge--exchange-${state}`, text: t(`exchanges.state.${state}`) }),
      ' ',
      h('span', {
        text: t('exchanges.meta', {
          side: sideText(exchange.side),
          date: formatDate(exchange.due_on),
        }),
      }),
    ),
  );
}

/** Creates a level-two section with a polite loading line, an alert and a list. */
function listSection(id, title, intro) {
  const loading = statusRegion();
  const alert = alertRegion();
  const list = h('ul', { class: 'letter-list', attrs: { 'aria-labelledby': id } });
  const element = h(
    'section',
    { class: 'to-do', attrs: { 'aria-labelledby': id } },
    h('h2', { id, text: title }),
    h('p', { text: intro }),
    loading,
    alert,
    list,
  );
  return { element, loading, alert, list };
}

/** Fills a section's list with `items`, or with the `emptyText` line when there are none. */
function fillList(section, items, emptyText) {
  section.alert.textContent = '';
  section.list.replaceChildren(...items);
  if (items.length === 0) section.list.append(h('li', { class: 'empty', text: emptyText }));
}

export async function mount(main, ctx) {
  ctx.setTitle(t('review_queue.title'));
  const letters = listSection(
    'review-letters-heading',
    t('review_queue.letters_heading'),
    t('review_queue.intro'),
  );
  const exchanges = listSection(
    'review-exchanges-heading',
    t('exchanges.title'),
    t('exchanges.intro'),
  );
  main.append(
    h(
      'section',
      { class: 'panel' },
      pageHeading(t('review_queue.title')),
      letters.element,
      exchanges.element,
    ),
  );

  async function loadLetters() {
    letters.loading.textContent = t('app.loading');
    try {
      const items = await fetchReviewQueue();
      if (ctx.signal.aborted) return;
      fillList(letters, items.map(queueItem), t('review_queue.empty'));
    } catch (error) {
      if (!ctx.signal.aborted) letters.alert.textContent = describeError(error);
    } finally {
      if (!ctx.signal.aborted) letters.loading.textContent = '';
    }
  }

  async function loadExchanges() {
    exchanges.loading.textContent = t('app.loading');
    try {
      const [items, conversations] = await Promise.all([fetchExchanges(), fetchConversations()]);
      if (ctx.signal.aborted) return;
      ctx.chat.updateSummaries(conversations);
      watchSupervisedLinks(conversations);
      const summaries = new Map(conversations.map((summary) => [summary.id, summary]));
      const elements = items.map((item) => exchangeItem(item, summaries, ctx.user.id));
      fillList(exchanges, elements, t('exchanges.empty'));
    } catch (error) {
      if (!ctx.signal.aborted) exchanges.alert.textContent = describeError(error);
    } finally {
      if (!ctx.signal.aborted) exchanges.loading.textContent = '';
    }
  }

  /** The contact links I supervise, whose `letters` frames reload the lists. */
  const supervised = new Set();
  function watchSupervisedLinks(conversations) {
    for (const summary of conversations) {
      if (summary.kind !== 'contact_link' || !isSupervisor(summary, ctx.user.id)) continue;
      supervised.add(summary.id);
      ctx.chat.watch(summary.id);
    }
  }

  // Letters arrive and exchanges fall due while I work elsewhere, so both
  // lists load again each time the page comes back into view.
  const load = () => Promise.all([loadLetters(), loadExchanges()]);
  followLetters(ctx, (id) => supervised.has(id), load);
  const onVisible = () => {
    if (document.visibilityState === 'visible') load();
  };
  document.addEventListener('visibilitychange', onVisible);
  ctx.onCleanup(() => document.removeEventListener('visibilitychange', onVisible));
  await load();
}
