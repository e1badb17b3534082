// A member's page in the community (#/community/members/<id>): their
// display name, their picture and the profile fields they show to members.
// The server leaves hidden fields, and a hidden picture, out of its
// response. A moderator also gets a form that warns the member, suspends
// them for a number of days, or lifts a suspension, each with a reason the
// member reads in their notices.

import { fetchMember, imageUrl, moderateMember } from '../community-api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import {
  communityPage,
  COMMUNITY_HOME,
  legalStatusLabel,
  SHORT_TEXT_MAX_CHARS,
} from './community-parts.js';
import { PROFILE_FIELDS } from './community-profile.js';
import { reasonForm } from './community-reason-form.js';
import { alertRegion, describeError, statusRegion } from './common.js';

const MEMBER_ACTIONS = ['warn', 'suspend', 'lift'];

/** Returns the text of a profile field, which the response may send bare or as `{ value }`. */
function fieldValue(name, entry) {
  const value = entry !== null && typeof entry === 'object' ? entry.value : entry;
  if (value === null || value === undefined || value === '') return null;
  return name === 'legal_status' ? legalStatusLabel(value) : String(value);
}

/** Creates the member's picture, or returns null when they show none. */
function pictureElement(member) {
  const imageId = fieldValue('picture', member.fields?.picture);
  if (imageId === null) return null;
  return h(
    'p',
    { class: 'community-picture' },
    h('img', {
      src: imageUrl(imageId, 'thumbnail'),
      alt: t('community.member.picture_alt', { name: member.display_name }),
      decoding: 'async',
    }),
  );
}

function profileDetails(member) {
  const rows = [];
  for (const { name } of PROFILE_FIELDS) {
    const value = fieldValue(name, member.fields?.[name]);
    if (value === null) continue;
    rows.push(
      h('dt', { text: t(`community.profile.field.${name}`) }),
      h('dd', { class: 'community-details__text', text: value }),
    );
  }
  if (rows.length === 0) {
    return h('p', { text: t('community.member.nothing_shared', { name: member.display_name }) });
  }
  return h('dl', { class: 'community-details' }, rows);
}

function moderationSection(ctx, member, membership) {
  const notice = statusRegion();
  const form = reasonForm({
    id: 'community-member-moderate',
    label: t('community.member.moderate_heading', { name: member.display_name }),
    legend: t('community.moderate.action_legend'),
    choices: MEMBER_ACTIONS.map((value) => ({
      value,
      label: t(`community.member.action.${value}`),
    })),
    daysFor: (action) => action === 'suspend',
    reasonLabel: t('community.moderate.reason_label'),
    reasonHint: t('community.member.reason_hint', { max: SHORT_TEXT_MAX_CHARS }),
    submitLabel: t('community.moderate.submit'),
    membership,
    submit: async ({ action, reason, days }) => {
      notice.textContent = '';
      await moderateMember(member.user_id, action, reason, action === 'suspend' ? days : null);
      if (ctx.signal.aborted) return;
      form.reset();
      notice.textContent = t(`community.member.done.${action}`, { name: member.display_name });
    },
  });
  return h(
    'section',
    { class: 'community__section', attrs: { 'aria-labelledby': 'community-member-moderate' } },
    h('h2', {
      id: 'community-member-moderate',
      text: t('community.member.moderate_heading', { name: member.display_name }),
    }),
    notice,
    form.element,
  );
}

export async function mount(main, ctx, [userId]) {
  const page = await communityPage(main, ctx, {
    title: t('community.member.title'),
    current: COMMUNITY_HOME,
  });
  if (!page) return;
  const { panel, heading, membership } = page;
  const loading = statusRegion();
  const alert = alertRegion();
  panel.append(loading, alert);

  loading.textContent = t('app.loading');
  let member;
  try {
    member = await fetchMember(userId);
  } catch (error) {
    if (ctx.signal.aborted) return;
    loading.textContent = '';
    alert.textContent = describeError(error);
    return;
  }
  if (ctx.signal.aborted) return;
  loading.textContent = '';
  heading.textContent = member.display_name;
  ctx.setTitle(member.display_name);

  const mine = member.user_id === (membership.user_id ?? ctx.user.id);
  if (member.moderator) {
    panel.append(
      h(
        'p',
        {},
        h('span', { class: 'badge badge--moderator', text: t('community.moderator_badge') }),
      ),
    );
  }
  if (mine) {
    panel.append(
      h('p', { class: 'callout', text: t('community.member.preview') }),
      h('p', {}, h('a', { href: '#/community/profile', text: t('community.member.edit_link') })),
    );
  }
  const picture = pictureElement(member);
  if (picture) panel.append(picture);
  panel.append(profileDetails(member));
  if (membership.moderator && !mine && !member.moderator) {
    panel.append(moderationSection(ctx, member, membership));
  }
}
