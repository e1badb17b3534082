// "My conversations": each conversation I am a member of, with its kind,
// the other members and the number of unread messages.

import { fetchConversations } from '../api.js';
import { h } from '../dom.js';
import { t, tPlural } from '../i18n.js';
import {
  alertRegion,
  describeError,
  kindLabel,
  otherMemberNames,
  pageHeading,
  statusRegion,
} from './common.js';

function conversationItem(summary, myUserId) {
  const unread = summary.unread ?? 0;
  const unreadText =
    unread > 0 ? tPlural('conversations.unread', unread) : t('conversations.all_read');
  return h(
    'li',
    { class: 'conversation-card', dataset: { conversationId: summary.id } },
    h(
      'h2',
      { class: 'conversation-card__title' },
      h('a', {
        href: `#/conversations/${summary.id}`,
        class: 'conversation-card__link',
        text: otherMemberNames(summary, myUserId),
      }),
    ),
    h('p', { class: 'conversation-card__kind', text: kindLabel(summary.kind) }),
    h('p', {
      class: unread > 0 ? 'badge badge--unread' : 'badge',
      text: unreadText,
    }),
  );
}

export async function mount(main, ctx) {
  ctx.setTitle(t('conversations.title'));
  const loading = statusRegion();
  const alert = alertRegion();
  const list = h('ul', { class: 'conversation-list' });
  main.append(
    h('section', { class: 'panel' }, pageHeading(t('conversations.title')), loading, alert, list),
  );

  // Unread counts change while I read elsewhere, so fetch again each visit
  // and whenever the page comes back into view.
  async function load() {
    loading.textContent = t('app.loading');
    try {
      const summaries = await fetchConversations();
      if (ctx.signal.aborted) return;
      ctx.chat.updateSummaries(summaries);
      alert.textContent = '';
      list.replaceChildren(...summaries.map((summary) => conversationItem(summary, ctx.user.id)));
      if (summaries.length === 0) {
        list.append(h('li', { class: 'empty', text: t('conversations.empty') }));
      }
      loading.textContent = '';
    } catch (error) {
      if (ctx.signal.aborted) return;
      loading.textContent = '';
      alert.textContent = describeError(error);
    }
  }

  const onVisible = () => {
    if (document.visibilityState === 'visible') load();
  };
  document.addEventListener('visibilitychange', onVisible);
  ctx.onCleanup(() => document.removeEventListener('visibilitychange', onVisible));
  await load();
}
