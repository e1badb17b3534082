// The timeline of a contact link's letters, for its practitioners: every
// step of every letter, oldest first, saying who did what and when, with
// the reason given for a return or a hold, and each protected term a
// family's letter matched, drafts never submitted included. It loads again
// when a `letters` frame reports that the link's letters changed.

import { fetchLetters, fetchLetterTimeline } from '../api.js';
import { h } from '../dom.js';
import { hasMessage, t } from '../i18n.js';
import {
  alertRegion,
  describeError,
  otherMemberNames,
  pageHeading,
  statusRegion,
} from './common.js';
import { conversationSummary, followLetters, timeElement } from './letter-parts.js';

function stepText(step) {
  const key = `timeline.step.${step.kind}`;
  const params = { name: step.actor_name, version: step.version ?? '', term: step.reason ?? '' };
  return hasMessage(key) ? t(key, params) : t('timeline.step.unknown', params);
}

function stepItem(step, writerOf) {
  const writer = writerOf.get(step.letter_id);
  return h(
    'li',
    { class: 'timeline__step' },
    h('p', { class: 'timeline__what', text: stepText(step) }),
    h('p', { class: 'timeline__when' }, timeElement(step.at)),
    step.reason && step.kind !== 'term_flagged'
      ? h('p', { class: 'timeline__reason', text: t('timeline.reason', { reason: step.reason }) })
      : null,
    // A draft never submitted is not in the list of letters, and its page
    // is the writer's alone.
    writer
      ? h(
          'p',
          { class: 'timeline__letter' },
          h('a', {
            href: `#/letters/${step.letter_id}`,
            text: t('timeline.letter_from', { name: writer }),
          }),
        )
      : h('p', { class: 'timeline__letter', text: t('timeline.unsent_draft') }),
  );
}

export async function mount(main, ctx, [conversationId]) {
  ctx.setTitle(t('timeline.title'));
  const loading = statusRegion();
  const alert = alertRegion();
  const subtitle = h('p', { class: 'timeline__subtitle' });
  const list = h('ol', { class: 'timeline', attrs: { 'aria-labelledby': 'timeline-title' } });
  main.append(
    h(
      'section',
      { class: 'panel', attrs: { 'aria-labelledby': 'timeline-title' } },
      h(
        'p',
        {},
        h('a', {
          href: `#/conversations/${conversationId}`,
          class: 'back-link',
          text: t('letter.back'),
        }),
      ),
      pageHeading(t('timeline.title'), 'timeline-title'),
      subtitle,
      loading,
      alert,
      list,
    ),
  );

  async function load() {
    loading.textContent = t('app.loading');
    try {
      const [steps, letters, summary] = await Promise.all([
        fetchLetterTimeline(conversationId),
        fetchLetters(conversationId),
        conversationSummary(ctx, conversationId),
      ]);
      if (ctx.signal.aborted) return;
      if (summary) {
        subtitle.textContent = t('timeline.subtitle', {
          names: otherMemberNames(summary, ctx.user.id),
        });
        ctx.chat.watch(conversationId);
      }
      alert.textContent = '';
      const writerOf = new Map(letters.map((letter) => [letter.id, letter.writer_name]));
      list.replaceChildren(...steps.map((step) => stepItem(step, writerOf)));
      if (steps.length === 0) list.append(h('li', { class: 'empty', text: t('timeline.empty') }));
    } catch (error) {
      if (!ctx.signal.aborted) alert.textContent = describeError(error);
    } finally {
      if (!ctx.signal.aborted) loading.textContent = '';
    }
  }

  followLetters(ctx, (id) => id === conversationId, load);
  await load();
}
