// "Reports" (#/community/moderation/reports), for moderators: the open
// reports, oldest first. Each shows the reported post with its topic, who
// reported it and why, the form that hides or removes the post with a
// reason, and the button that passes it to an organisation as a
// safeguarding concern. Acting on a post closes every open report of it,
// so the list loads again afterwards.

import { fetchReports } from '../community-api.js';
import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import { concernTools, organisationLoader } from './community-concern-form.js';
import {
  authorElement,
  communityPage,
  memberHref,
  timeElement,
  topicHref,
} from './community-parts.js';
import { postModerationForm } from './community-post-moderation.js';
import { postContent } from './community-topic.js';
import { alertRegion, describeError, statusRegion } from './common.js';

function reportItem(ctx, report, membership, organisations, onModerated) {
  const post = report.post ?? {};
  const concern =
    post.id && post.state !== 'removed'
      ? concernTools({ ctx, post, membership, id: `report-${report.id}-concern`, organisations })
      : null;
  const form = post.id
    ? postModerationForm({
        post,
        membership,
        id: `report-${report.id}-moderate`,
        done: (moderated, action) => onModerated(t(`community.moderate.done.${action}`)),
      })
    : null;
  const reporter = report.reporter?.display_name ?? t('community.former_member');
  return h(
    'li',
    { class: 'worker-card community-report', dataset: { reportId: report.id } },
    h(
      'h3',
      { class: 'worker-card__title' },
      h('a', { href: topicHref(report.topic_id), text: report.topic_title ?? '' }),
    ),
    h(
      'p',
      { class: 'worker-card__meta' },
      t('community.reports.reported_by'),
      ' ',
      report.reporter?.user_id
        ? h('a', { href: memberHref(report.reporter.user_id), text: reporter })
        : reporter,
      ', ',
      timeElement(report.created_at),
    ),
    h('p', { class: 'callout__reason-label', text: t('community.reports.reason') }),
    h('p', { class: 'callout__reason', text: report.reason ?? '' }),
    h('p', { class: 'callout__reason-label', text: t('community.reports.post') }),
    h(
      'div',
      { class: 'community-post' },
      h(
        'p',
        { class: 'community-post__meta' },
        authorElement(post.author),
        post.created_at ? ', ' : null,
        post.created_at ? timeElement(post.created_at) : null,
      ),
      ...postContent(post),
    ),
    form?.element,
    concern ? h('div', { class: 'actions' }, concern.open) : null,
    concern?.form,
    concern?.status,
  );
}

export async function mount(main, ctx) {
  const page = await communityPage(main, ctx, {
    title: t('community.reports.title'),
    current: '#/community/moderation/reports',
    moderatorsOnly: true,
  });
  if (!page) return;
  const { panel, heading, membership } = page;
  const loading = statusRegion();
  const notice = statusRegion();
  const alert = alertRegion();
  const list = h('ul', {
    class: 'worker-list',
    attrs: { 'aria-label': t('community.reports.title') },
  });
  panel.append(h('p', { text: t('community.reports.intro') }), loading, notice, alert, list);
  const organisations = organisationLoader();

  async function load() {
    loading.textContent = t('app.loading');
    try {
      const reports = await fetchReports();
      if (ctx.signal.aborted) return;
      list.replaceChildren(
        ...reports.map((each) => reportItem(ctx, each, membership, organisations, moderated)),
      );
      if (reports.length === 0) {
        list.append(h('li', { class: 'empty', text: t('community.reports.empty') }));
      }
    } catch (error) {
      if (!ctx.signal.aborted) alert.textContent = describeError(error);
    } finally {
      if (!ctx.signal.aborted) loading.textContent = '';
    }
  }

  // The report is closed and gone from the list, so focus moves to the heading.
  async function moderated(text) {
    if (ctx.signal.aborted) return;
    notice.textContent = text;
    await load();
    focusElement(heading);
  }

  await load();
}
