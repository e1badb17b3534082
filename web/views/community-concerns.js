// "Safeguarding concerns" (#/safeguarding-concerns), for managers: the
// community posts that moderators passed to my organisation, newest
// first. Each shows the moderator's reason, the post with its topic, the
// member's community name and the account that wrote it, and whether the
// member was told, with the moderator's reason when they were not. The
// server sends each manager an email when a concern arrives.

import { fetchOrganisationConcerns } from '../community-api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { timeElement } from './community-parts.js';
import { alertRegion, describeError, pageHeading, statusRegion } from './common.js';

function detailRow(label, ...value) {
  return [h('dt', { text: label }), h('dd', {}, ...value)];
}

function reasonBlock(label, text) {
  return [
    h('p', { class: 'callout__reason-label', text: label }),
    h('p', { class: 'callout__reason', text }),
  ];
}

function accountDetails(account) {
  if (!account) return t('community.concerns.account_gone');
  return [
    account.name,
    ' (',
    h('a', { href: `mailto:${account.email}`, text: account.email }),
    ')',
  ];
}

function concernItem(concern) {
  const told = Boolean(concern.member_told);
  const post =
    concern.post_body === null || concern.post_body === undefined
      ? h('p', { class: 'community-post__notice', text: t('community.concerns.post_deleted') })
      : h('p', { class: 'community-post__body', text: concern.post_body });
  return h(
    'li',
    { class: 'worker-card community-concern', dataset: { concernId: concern.id } },
    h('h2', { class: 'worker-card__title', text: concern.topic_title ?? '' }),
    h(
      'p',
      { class: 'worker-card__meta' },
      t('community.concerns.received'),
      ' ',
      timeElement(concern.created_at),
    ),
    h(
      'dl',
      { class: 'community-details' },
      detailRow(t('community.concerns.member'), concern.member_display_name ?? ''),
      detailRow(t('community.concerns.account'), accountDetails(concern.account)),
      detailRow(
        t('community.concerns.told'),
        t(told ? 'community.concerns.told_yes' : 'community.concerns.told_no'),
      ),
    ),
    reasonBlock(t('community.concerns.reason'), concern.reason ?? ''),
    told
      ? null
      : reasonBlock(t('community.concerns.not_told_because'), concern.not_told_because ?? ''),
    h('p', { class: 'callout__reason-label', text: t('community.concerns.post') }),
    h(
      'div',
      { class: 'community-post' },
      h(
        'p',
        { class: 'community-post__meta' },
        concern.member_display_name ?? '',
        ', ',
        timeElement(concern.post_created_at),
      ),
      post,
    ),
  );
}

export async function mount(main, ctx) {
  const title = t('community.concerns.title');
  ctx.setTitle(title);
  const panel = h('section', { class: 'panel community' }, pageHeading(title));
  main.append(panel);

  const organisationId = ctx.user.organisation_id;
  if (!(ctx.user.roles ?? []).includes('manager') || !organisationId) {
    panel.append(h('p', { text: t('community.concerns.managers_only') }));
    return;
  }

  const loading = statusRegion();
  const alert = alertRegion();
  const list = h('ul', { class: 'worker-list', attrs: { 'aria-label': title } });
  panel.append(
    h('p', { text: t('community.concerns.intro') }),
    h('p', { text: t('community.concerns.not_told_intro') }),
    loading,
    alert,
    list,
  );

  loading.textContent = t('app.loading');
  try {
    const concerns = await fetchOrganisationConcerns(organisationId);
    if (ctx.signal.aborted) return;
    list.replaceChildren(...concerns.map(concernItem));
    if (concerns.length === 0) {
      list.append(h('li', { class: 'empty', text: t('community.concerns.empty') }));
    }
  } catch (error) {
    if (!ctx.signal.aborted) alert.textContent = describeError(error);
  } finally {
    if (!ctx.signal.aborted) loading.textContent = '';
  }
}
