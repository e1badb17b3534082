// "Notices" in the community (#/community/notices): what moderators sent
// me, newest first. A warning, a suspension and its end, and each post of
// mine that was hidden, removed or restored, with the moderator's reason,
// the end of a suspension, and a link to the topic of a post.

import { fetchNotices } from '../community-api.js';
import { h } from '../dom.js';
import { formatTime } from '../format.js';
import { hasMessage, t } from '../i18n.js';
import { communityPage, timeElement, topicHref } from './community-parts.js';
import { alertRegion, describeError, statusRegion } from './common.js';

function noticeTitle(kind) {
  const key = `community.notice.kind.${kind}`;
  return hasMessage(key) ? t(key) : t('community.notice.kind.other');
}

function noticeItem(notice) {
  const reason = notice.reason
    ? [
        h('p', { class: 'callout__reason-label', text: t('community.notice.reason') }),
        h('p', { class: 'callout__reason', text: notice.reason }),
      ]
    : null;
  const topicLink = notice.topic_id
    ? h(
        'p',
        {},
        h('a', { href: topicHref(notice.topic_id), text: t('community.notice.topic_link') }),
      )
    : null;
  return h(
    'li',
    { class: 'case-card community-notice', dataset: { noticeId: notice.id, kind: notice.kind } },
    h('h2', { class: 'case-card__title', text: noticeTitle(notice.kind) }),
    h('p', { class: 'case-card__meta' }, timeElement(notice.created_at)),
    notice.until
      ? h('p', { text: t('community.notice.until', { time: formatTime(notice.until) }) })
      : null,
    reason,
    topicLink,
  );
}

export async function mount(main, ctx) {
  const page = await communityPage(main, ctx, {
    title: t('community.notices.title'),
    current: '#/community/notices',
  });
  if (!page) return;
  const { panel } = page;
  const loading = statusRegion();
  const alert = alertRegion();
  const list = h('ul', {
    class: 'case-list',
    attrs: { 'aria-label': t('community.notices.title') },
  });
  panel.append(h('p', { text: t('community.notices.intro') }), loading, alert, list);

  loading.textContent = t('app.loading');
  try {
    const notices = await fetchNotices();
    if (ctx.signal.aborted) return;
    list.replaceChildren(...notices.map(noticeItem));
    if (notices.length === 0) {
      list.append(h('li', { class: 'empty', text: t('community.notices.empty') }));
    }
  } catch (error) {
    if (!ctx.signal.aborted) alert.textContent = describeError(error);
  } finally {
    if (!ctx.signal.aborted) loading.textContent = '';
  }
}
