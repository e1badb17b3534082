// "Notices" in the community (#/community/notices): what moderators sent
// me, newest first. A warning, a suspension and its end, and each post of
// mine that was hidden, removed, restored or passed to an organisation as
// a safeguarding concern, with the moderator's reason, the end of a
// suspension, and a link to the topic of a post.
// A decision against me (a warning, a suspension, a hidden or removed
// post) may be appealed once: its Appeal button opens a form for my
// reasons. An appealed notice shows what I wrote and, once a moderator has
// answered, whether the decision was upheld or overturned and why.

import { appealNotice, fetchNotices } from '../community-api.js';
import { focusElement, h } from '../dom.js';
import { formatTime } from '../format.js';
import { hasMessage, t } from '../i18n.js';
import {
  communityPage,
  contextButton,
  SHORT_TEXT_MAX_CHARS,
  timeElement,
  topicHref,
} from './community-parts.js';
import { reasonForm } from './community-reason-form.js';
import { alertRegion, describeError, statusRegion } from './common.js';

/** The outcomes of an appeal that the page has text for. */
const OUTCOMES = new Set(['upheld', 'overturned']);

function noticeTitle(kind) {
  const key = `community.notice.kind.${kind}`;
  return hasMessage(key) ? t(key) : t('community.notice.kind.other');
}

function reasonBlock(label, text) {
  return [
    h('p', { class: 'callout__reason-label', text: label }),
    h('p', { class: 'callout__reason', text }),
  ];
}

/** Creates the details of the notice's appeal: my text and, once answered, the outcome. */
function appealDetails(notice) {
  const appeal = notice.appeal;
  const headingId = `notice-${notice.id}-appeal`;
  const parts = [
    h('h3', {
      id: headingId,
      class: 'community-appeal__title',
      text: t('community.appeal.heading'),
    }),
    h(
      'p',
      { class: 'case-card__meta' },
      t('community.appeal.sent'),
      ' ',
      timeElement(appeal.appealed_at),
    ),
    h('p', { class: 'callout__reason', text: appeal.text ?? '' }),
  ];
  if (OUTCOMES.has(appeal.outcome)) {
    parts.push(
      h('p', {
        class: `community-appeal__outcome community-appeal__outcome--${appeal.outcome}`,
        text: t(`community.appeal.outcome.${appeal.outcome}`),
      }),
      appeal.decided_at
        ? h(
            'p',
            { class: 'case-card__meta' },
            t('community.appeal.decided'),
            ' ',
            timeElement(appeal.decided_at),
          )
        : null,
      ...(appeal.reason ? reasonBlock(t('community.appeal.answer'), appeal.reason) : []),
    );
  } else {
    parts.push(h('p', { text: t('community.appeal.waiting') }));
  }
  return h(
    'section',
    { class: 'community-appeal', attrs: { 'aria-labelledby': headingId } },
    parts,
  );
}

/**
 * Creates the Appeal button and the form it opens. `send(text)` sends the
 * appeal and rejects with an ApiError for the form to show.
 */
function appealTools(notice, membership, send) {
  const title = noticeTitle(notice.kind);
  const open = contextButton(
    'button button--secondary',
    t('community.appeal.open'),
    t('community.appeal.context', { notice: title, time: formatTime(notice.created_at) }),
    () => {
      open.hidden = true;
      form.element.hidden = false;
      form.focus();
    },
  );
  const form = reasonForm({
    id: `notice-${notice.id}-appeal-form`,
    label: t('community.appeal.form_label', { notice: title }),
    reasonLabel: t('community.appeal.text_label'),
    reasonHint: t('community.appeal.text_hint', { max: SHORT_TEXT_MAX_CHARS }),
    reasonName: 'text',
    submitLabel: t('community.appeal.submit'),
    membership,
    cancel: () => {
      form.element.hidden = true;
      open.hidden = false;
      focusElement(open);
    },
    submit: ({ reason }) => send(reason),
  });
  form.element.hidden = true;
  return h(
    'div',
    { class: 'community-appeal__tools' },
    h('div', { class: 'actions' }, open),
    form.element,
  );
}

/**
 * Creates one notice. `sendAppeal(notice, text)` sends an appeal of it and
 * rejects with an ApiError.
 */
function noticeItem(notice, membership, sendAppeal) {
  const reason = notice.reason ? reasonBlock(t('community.notice.reason'), notice.reason) : null;
  const topicLink = notice.topic_id
    ? h(
        'p',
        {},
        h('a', { href: topicHref(notice.topic_id), text: t('community.notice.topic_link') }),
      )
    : null;
  let appealPart = null;
  if (notice.appeal) {
    appealPart = appealDetails(notice);
  } else if (notice.appealable) {
    appealPart = appealTools(notice, membership, (text) => sendAppeal(notice, text));
  }
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
    appealPart,
  );
}

export async function mount(main, ctx) {
  const page = await communityPage(main, ctx, {
    title: t('community.notices.title'),
    current: '#/community/notices',
  });
  if (!page) return;
  const { panel, membership } = page;
  const loading = statusRegion();
  const status = statusRegion();
  const alert = alertRegion();
  const list = h('ul', {
    class: 'case-list',
    attrs: { 'aria-label': t('community.notices.title') },
  });
  panel.append(h('p', { text: t('community.notices.intro') }), loading, status, alert, list);

  async function load() {
    loading.textContent = t('app.loading');
    try {
      const notices = await fetchNotices();
      if (ctx.signal.aborted) return;
      list.replaceChildren(...notices.map((each) => noticeItem(each, membership, sendAppeal)));
      if (notices.length === 0) {
        list.append(h('li', { class: 'empty', text: t('community.notices.empty') }));
      }
    } catch (error) {
      if (!ctx.signal.aborted) alert.textContent = describeError(error);
    } finally {
      if (!ctx.signal.aborted) loading.textContent = '';
    }
  }

  // The notice comes back with its appeal, and its item is rebuilt to show
  // it, so focus moves to the new item.
  async function sendAppeal(sent, text) {
    status.textContent = '';
    alert.textContent = '';
    let updated;
    try {
      updated = await appealNotice(sent.id, text);
    } catch (error) {
      if (error.code !== 'resource.conflict') throw error;
      // The notice was appealed already, perhaps in another tab, or is no
      // longer appealable, so the list loads again to show its current state.
      if (ctx.signal.aborted) return;
      alert.textContent = t('community.appeal.conflict');
      await load();
      return;
    }
    if (ctx.signal.aborted) return;
    const item = list.querySelector(`[data-notice-id="${CSS.escape(sent.id)}"]`);
    const fresh = noticeItem(updated, membership, sendAppeal);
    if (item) item.replaceWith(fresh);
    status.textContent = t('community.appeal.done');
    focusElement(fresh.querySelector('.community-appeal__title') ?? fresh);
  }

  await load();
}
