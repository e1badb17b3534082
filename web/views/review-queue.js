// "Letters to review": the submitted letters waiting in the contact links
// I supervise, oldest first, each opening the letter's review.

import { fetchReviewQueue } from '../api.js';
import { h } from '../dom.js';
import { formatTime } from '../format.js';
import { t, tPlural } from '../i18n.js';
import { alertRegion, describeError, pageHeading, statusRegion } from './common.js';
import { sideText } from './letter-parts.js';

function findingsText(count) {
  return count > 0 ? tPlural('review_queue.findings', count) : t('review_queue.no_findings');
}

function queueItem(item) {
  return h(
    'li',
    { class: 'letter-card', dataset: { letterId: item.letter_id } },
    h(
      'h2',
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

export async function mount(main, ctx) {
  ctx.setTitle(t('review_queue.title'));
  const loading = statusRegion();
  const alert = alertRegion();
  const list = h('ul', { class: 'letter-list' });
  main.append(
    h(
      'section',
      { class: 'panel' },
      pageHeading(t('review_queue.title')),
      h('p', { text: t('review_queue.intro') }),
      loading,
      alert,
      list,
    ),
  );

  // Letters arrive while I work elsewhere, so the queue loads again each
  // time the page comes back into view.
  async function load() {
    loading.textContent = t('app.loading');
    try {
      const items = await fetchReviewQueue();
      if (ctx.signal.aborted) return;
      alert.textContent = '';
      list.replaceChildren(...items.map(queueItem));
      if (items.length === 0) {
        list.append(h('li', { class: 'empty', text: t('review_queue.empty') }));
      }
    } catch (error) {
      if (!ctx.signal.aborted) alert.textContent = describeError(error);
    } finally {
      if (!ctx.signal.aborted) loading.textContent = '';
    }
  }

  const onVisible = () => {
    if (document.visibilityState === 'visible') load();
  };
  document.addEventListener('visibilitychange', onVisible);
  ctx.onCleanup(() => document.removeEventListener('visibilitychange', onVisible));
  await load();
}
