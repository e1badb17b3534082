// "Appeals" (#/community/moderation/appeals), for moderators: the appeals
// no moderator has answered, oldest first. Each shows the member, the
// decision they appeal with its reason, a link to the topic of a post, and
// what the member wrote, then the form that upholds or overturns the
// decision with a reason the member reads. Overturning shows a hidden post
// again and lifts a suspension still running. A removed post's text is
// gone, so overturning its removal only records the answer.

import { decideAppeal, fetchAppeals } from '../community-api.js';
import { focusElement, h } from '../dom.js';
import { formatTime } from '../format.js';
import { hasMessage, t } from '../i18n.js';
import {
  authorElement,
  communityPage,
  SHORT_TEXT_MAX_CHARS,
  timeElement,
  topicHref,
} from './community-parts.js';
import { reasonForm } from './community-reason-form.js';
import { alertRegion, describeError, statusRegion } from './common.js';

const DECISIONS = ['uphold', 'overturn'];

/** Returns the moderator's name for the decision a notice records. */
function decisionTitle(kind) {
  const key = `community.appeals.kind.${kind}`;
  return hasMessage(key) ? t(key) : t('community.appeals.kind.other');
}

function appealItem({ member, notice }, membership, decide) {
  const name = member?.display_name ?? t('community.former_member');
  const decision = decisionTitle(notice.kind);
  const form = reasonForm({
    id: `appeal-${notice.id}-decision`,
    label: t('community.appeals.form_label', { name, decision }),
    legend: t('community.appeals.decision_legend'),
    choices: DECISIONS.map((value) => ({
      value,
      label: t(`community.appeals.decision.${value}`),
    })),
    reasonLabel: t('community.moderate.reason_label'),
    reasonHint: t('community.appeals.reason_hint', { max: SHORT_TEXT_MAX_CHARS }),
    submitLabel: t('community.appeals.submit'),
    membership,
    submit: ({ action, reason }) => decide(notice, name, action, reason),
  });
  const appeal = notice.appeal ?? {};
  return h(
    'li',
    { class: 'worker-card community-appeal-item', dataset: { noticeId: notice.id } },
    h('h3', { class: 'worker-card__title', text: t('community.appeals.item_title', { decision }) }),
    h(
      'p',
      { class: 'worker-card__meta' },
      t('community.appeals.member'),
      ' ',
      authorElement(member),
      '. ',
      t('community.appeals.appealed'),
      ' ',
      timeElement(appeal.appealed_at),
    ),
    h(
      'p',
      { class: 'worker-card__meta' },
      t('community.appeals.decided'),
      ' ',
      timeElement(notice.created_at),
      notice.until ? '. ' : null,
      notice.until ? t('community.notice.until', { time: formatTime(notice.until) }) : null,
    ),
    notice.topic_id
      ? h(
          'p',
          {},
          h('a', { href: topicHref(notice.topic_id), text: t('community.notice.topic_link') }),
        )
      : null,
    h('p', { class: 'callout__reason-label', text: t('community.appeals.decision_reason') }),
    h('p', { class: 'callout__reason', text: notice.reason ?? '' }),
    h('p', { class: 'callout__reason-label', text: t('community.appeals.text') }),
    h('p', { class: 'callout__reason', text: appeal.text ?? '' }),
    form.element,
  );
}

export async function mount(main, ctx) {
  const page = await communityPage(main, ctx, {
    title: t('community.appeals.title'),
    current: '#/community/moderation/appeals',
    moderatorsOnly: true,
  });
  if (!page) return;
  const { panel, heading, membership } = page;
  const loading = statusRegion();
  const status = statusRegion();
  const alert = alertRegion();
  const list = h('ul', {
    class: 'worker-list',
    attrs: { 'aria-label': t('community.appeals.title') },
  });
  panel.append(h('p', { text: t('community.appeals.intro') }), loading, status, alert, list);

  async function load() {
    loading.textContent = t('app.loading');
    try {
      const appeals = await fetchAppeals();
      if (ctx.signal.aborted) return;
      list.replaceChildren(...appeals.map((each) => appealItem(each, membership, decide)));
      if (appeals.length === 0) {
        list.append(h('li', { class: 'empty', text: t('community.appeals.empty') }));
      }
    } catch (error) {
      if (!ctx.signal.aborted) alert.textContent = describeError(error);
    } finally {
      if (!ctx.signal.aborted) loading.textContent = '';
    }
  }

  // The answered appeal leaves the list with its form, so focus moves to the heading.
  async function decide(notice, name, decision, reason) {
    status.textContent = '';
    alert.textContent = '';
    try {
      await decideAppeal(notice.id, decision, reason);
    } catch (error) {
      if (error.code !== 'resource.conflict') throw error;
      // Another moderator answered first, so the list loads again to show what is left.
      if (ctx.signal.aborted) return;
      alert.textContent = t('community.appeals.answered_already');
      await load();
      focusElement(alert);
      return;
    }
    if (ctx.signal.aborted) return;
    status.textContent = t(`community.appeals.done.${decision}`, { name });
    await load();
    focusElement(heading);
  }

  await load();
}
