// Pieces shared by the community pages. They build the section's own
// navigation, the start of a page for active members or moderators, and
// how an author and a time are shown. They also give the catalogue text of
// community errors and follow a group's live updates.

import { fetchMembership } from '../community-api.js';
import { h } from '../dom.js';
import { formatTime } from '../format.js';
import { hasMessage, t, tPlural } from '../i18n.js';
import { alertRegion, describeError, pageHeading } from './common.js';

export const COMMUNITY_HOME = '#/community';

/** Maximum characters of a display name, a topic title, a post, and a reason or profile text. */
export const DISPLAY_NAME_MAX_CHARS = 40;
export const TITLE_MAX_CHARS = 150;
export const BODY_MAX_CHARS = 10_000;
export const SHORT_TEXT_MAX_CHARS = 500;

/** Delay before a page loads again after a `community` frame, so a burst of frames loads once. */
const REFRESH_DELAY_MS = 150;

const MEMBER_PAGES = [
  [COMMUNITY_HOME, 'community.nav.groups'],
  ['#/community/profile', 'community.nav.profile'],
  ['#/community/notices', 'community.nav.notices'],
];
/** Moderators have no community profile, so their pages leave it out. */
const MODERATOR_PAGES = [
  [COMMUNITY_HOME, 'community.nav.groups'],
  ['#/community/notices', 'community.nav.notices'],
  ['#/community/moderation/applications', 'community.nav.applications'],
  ['#/community/moderation/reports', 'community.nav.reports'],
  ['#/community/moderation/appeals', 'community.nav.appeals'],
  ['#/community/moderation/requests', 'community.nav.requests'],
  ['#/community/moderation/membership-list', 'community.nav.membership_list'],
];

export function memberHref(userId) {
  return `#/community/members/${encodeURIComponent(userId)}`;
}

export function groupHref(groupId) {
  return `#/community/groups/${encodeURIComponent(groupId)}`;
}

export function topicHref(topicId) {
  return `#/community/topics/${encodeURIComponent(topicId)}`;
}

/** Returns the number of characters of `text`, counting each code point once. */
export function charCount(text) {
  return [...text].length;
}

/** Returns whether an active membership may read the community's pages. */
export function isActive(membership) {
  return membership?.state === 'active' || Boolean(membership?.moderator);
}

/**
 * Returns whether I can read a group's topics: every open group and my
 * own groups, and every group for moderators.
 */
export function canReadGroup(group, membership) {
  return group.join === 'open' || group.membership === 'member' || Boolean(membership?.moderator);
}

/** Returns the end of a suspension still running, or null. */
export function suspendedUntil(membership) {
  const until = membership?.suspended_until;
  if (!until) return null;
  return Date.parse(until) > Date.now() ? until : null;
}

/**
 * Creates the navigation between the community pages, with `current` (a
 * route such as `#/community`) marked as the page shown. Moderators get
 * their own pages in place of a member's profile.
 */
export function communityNav(membership, current) {
  const pages = membership?.moderator ? MODERATOR_PAGES : MEMBER_PAGES;
  return h(
    'nav',
    { class: 'section-nav', attrs: { 'aria-label': t('community.nav.label') } },
    h(
      'ul',
      { class: 'section-nav__list' },
      pages.map(([href, key]) =>
        h(
          'li',
          {},
          h('a', {
            href,
            class: 'section-nav__link',
            text: t(key),
            attrs: { 'aria-current': href === current ? 'page' : null },
          }),
        ),
      ),
    ),
  );
}

/**
 * Starts a community page in `main`: a panel with the heading `title`,
 * then loads my membership. For an active member or a moderator (or only
 * a moderator, with `moderatorsOnly`), it puts the section's navigation
 * above the panel and returns `{ panel, heading, membership }`. Otherwise
 * it explains in the panel why the page is closed and returns null.
 */
export async function communityPage(main, ctx, { title, current, moderatorsOnly = false }) {
  ctx.setTitle(title);
  const heading = pageHeading(title);
  const panel = h('section', { class: 'panel community' }, heading);
  main.append(panel);

  let membership;
  try {
    membership = await fetchMembership();
  } catch (error) {
    if (ctx.signal.aborted) return null;
    const alert = alertRegion();
    panel.append(alert);
    alert.textContent = describeError(error);
    return null;
  }
  if (ctx.signal.aborted) return null;

  if (!isActive(membership)) {
    panel.append(
      h('p', { text: t('community.members_only') }),
      h('p', {}, h('a', { href: COMMUNITY_HOME, text: t('community.members_only_link') })),
    );
    return null;
  }
  if (moderatorsOnly && !membership.moderator) {
    panel.append(h('p', { text: t('community.moderators_only') }));
    return null;
  }
  main.insertBefore(communityNav(membership, current), panel);
  return { panel, heading, membership };
}

/** Creates a `time` element with the local date and time of an RFC 3339 time. */
export function timeElement(iso) {
  return h('time', { dateTime: iso, text: formatTime(iso) });
}

/**
 * Creates the name of an author (`{ user_id, display_name, moderator }`)
 * as a link to their member page, marked when they are a moderator.
 */
export function authorElement(author) {
  const name = author?.display_name ?? t('community.former_member');
  const link = author?.user_id
    ? h('a', { href: memberHref(author.user_id), class: 'community-author', text: name })
    : h('span', { class: 'community-author', text: name });
  if (!author?.moderator) return link;
  return h(
    'span',
    {},
    link,
    ' ',
    h('span', { class: 'badge badge--moderator', text: t('community.moderator_badge') }),
  );
}

/**
 * Creates a button whose accessible name adds `context` to its visible
 * `label`, for lists with one such button per item.
 */
export function contextButton(className, label, context, onClick) {
  return h(
    'button',
    { type: 'button', class: className, on: { click: onClick } },
    label,
    h('span', { class: 'visually-hidden', text: ` ${context}` }),
  );
}

/**
 * Returns catalogue text for an ApiError of a community request. A
 * suspension names its end when `membership` gives it, and a throttled post
 * the seconds to wait.
 */
export function describeCommunityError(error, membership = null) {
  if (error?.code === 'community.suspended') {
    const until = suspendedUntil(membership);
    if (until) return t('community.suspended_until', { time: formatTime(until) });
  }
  if (error?.code === 'community.throttled' && error.retryAfterSeconds) {
    return tPlural('community.throttled_wait', Math.max(1, error.retryAfterSeconds));
  }
  return describeError(error);
}

/** Returns the label of a profile's legal status code, or the code itself when unknown. */
export function legalStatusLabel(code) {
  const key = `community.legal_status.${code}`;
  return hasMessage(key) ? t(key) : t('community.unknown_code', { code: String(code) });
}

/**
 * Explains why I cannot start a topic or reply here, or returns null when I
 * can. `group` is the group's entry in the list of groups.
 */
export function postingBlock(membership, group) {
  const until = suspendedUntil(membership);
  if (until) {
    return h(
      'div',
      { class: 'callout callout--warning' },
      h('p', { text: describeCommunityError({ code: 'community.suspended' }, membership) }),
    );
  }
  if (!membership.rules_accepted && !membership.moderator) {
    return h(
      'div',
      { class: 'callout' },
      h('p', { text: t('community.rules.needed') }),
      h('p', {}, h('a', { href: COMMUNITY_HOME, text: t('community.rules.needed_link') })),
    );
  }
  // Anyone may post in an open group. A group by approval is closed to
  // everyone but its members and the moderators.
  const outsider = group?.join === 'approval' && group.membership !== 'member';
  if (outsider && !membership.moderator) {
    return h(
      'div',
      { class: 'callout' },
      h('p', { text: t('community.group.join_to_post', { name: group.name }) }),
    );
  }
  return null;
}

/**
 * Calls `refresh` shortly after each `community` frame of `groupId` for
 * which `matches(detail)` holds, and after each reconnect, because frames
 * sent while the socket was down are not sent again. Follows the group
 * until the view is left. `refresh` never runs twice at once: a frame that
 * arrives during a refresh runs it once more afterwards.
 */
export function followGroup(ctx, groupId, refresh, matches = () => true) {
  let timer = null;
  let running = false;
  let again = false;

  async function run() {
    if (ctx.signal.aborted) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await refresh();
    } finally {
      running = false;
    }
    if (again) {
      again = false;
      run();
    }
  }
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(run, REFRESH_DELAY_MS);
  };
  const onCommunity = (event) => {
    if (event.detail.groupId === groupId && matches(event.detail)) schedule();
  };

  ctx.chat.followCommunity(groupId);
  ctx.chat.addEventListener('community', onCommunity);
  ctx.chat.addEventListener('open', schedule);
  ctx.onCleanup(() => {
    clearTimeout(timer);
    ctx.chat.removeEventListener('community', onCommunity);
    ctx.chat.removeEventListener('open', schedule);
    ctx.chat.unfollowCommunity(groupId);
  });
}
