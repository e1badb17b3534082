// The community home (#/community), which everyone signed in reaches from
// the main navigation. What it shows follows my membership:
// - none: what the community is, and a form to apply with a display name
//   and, optionally, a partner organisation and membership number;
// - applied: that a moderator has yet to decide, with what I sent;
// - rejected: the moderator's reason, and the form to apply again;
// - active (members and moderators): a suspension, when one runs, and the
//   acceptable-use rules, with a button to accept them until I have. Then
//   come a search box, which opens the search page, and the groups, each to
//   open, join, request to join or leave. Moderators also get the form
//   that creates a group.

import {
  acceptRules,
  applyForMembership,
  fetchGroups,
  fetchMembership,
  fetchRules,
  joinGroup,
  leaveGroup,
} from '../community-api.js';
import { focusElement, h } from '../dom.js';
import { formatTime } from '../format.js';
import { t, tPlural } from '../i18n.js';
import { applicationFields, communityIntro, loadPartners } from './community-application.js';
import { newGroupSection } from './community-new-group.js';
import {
  canReadGroup,
  COMMUNITY_HOME,
  communityNav,
  contextButton,
  describeCommunityError,
  groupHref,
  isActive,
  suspendedUntil,
  timeElement,
} from './community-parts.js';
import { searchForm, searchHref } from './community-search.js';
import { alertRegion, describeError, pageHeading, statusRegion } from './common.js';

/** The rules the page shows, one catalogue key each, in the order members read them. */
const RULES = ['kind', 'children', 'advertising', 'moderation'];

/** Creates the list of the acceptable-use rules. */
export function rulesList() {
  return h(
    'ol',
    { class: 'community-rules' },
    RULES.map((rule) => h('li', { text: t(`community.rules.${rule}`) })),
  );
}

function detailRow(label, value) {
  return [h('dt', { text: label }), h('dd', {}, value)];
}

/**
 * Creates the form of someone with an account who has not applied yet, or
 * who applies `again` after being turned down.
 */
function applySection(ctx, partners, onApplied, { again = false } = {}) {
  const alert = alertRegion();
  const application = applicationFields('community-membership', partners);
  const submit = h('button', {
    type: 'submit',
    class: 'button',
    text: t('community.apply.submit'),
  });
  const form = h(
    'form',
    { class: 'form', noValidate: true, attrs: { 'aria-labelledby': 'community-apply-heading' } },
    application.wrappers,
    submit,
  );

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    alert.textContent = '';
    const values = application.values();
    if (!values) return;
    busy = true;
    submit.disabled = true;
    try {
      await applyForMembership(values);
      if (ctx.signal.aborted) return;
      onApplied();
    } catch (error) {
      if (ctx.signal.aborted) return;
      if (error.code === 'resource.conflict') {
        // I applied already, perhaps in another tab, so the page shows that application.
        onApplied();
      } else if (!application.showServerError(error)) {
        alert.textContent = describeError(error);
        focusElement(alert);
      }
    } finally {
      busy = false;
      submit.disabled = false;
    }
  });

  return h(
    'section',
    { class: 'community__section', attrs: { 'aria-labelledby': 'community-apply-heading' } },
    again ? null : communityIntro(),
    h('h2', {
      id: 'community-apply-heading',
      text: t(again ? 'community.apply.again_heading' : 'community.apply.heading'),
    }),
    alert,
    form,
  );
}

function appliedSection(membership) {
  const partner = membership.partner?.name ?? t('community.apply.no_partner');
  const number = membership.membership_number || t('community.apply.no_number');
  return h(
    'section',
    { class: 'community__section', attrs: { 'aria-labelledby': 'community-state-heading' } },
    h('h2', { id: 'community-state-heading', text: t('community.applied.heading') }),
    h('p', { text: t('community.applied.body') }),
    h(
      'dl',
      { class: 'community-details' },
      detailRow(t('community.apply.display_name_label'), membership.display_name ?? ''),
      detailRow(t('community.apply.partner_label'), partner),
      detailRow(t('community.apply.number_label'), number),
      membership.applied_at
        ? detailRow(t('community.applied.applied_at'), timeElement(membership.applied_at))
        : null,
    ),
  );
}

function rejectedSection(membership) {
  return h(
    'section',
    { class: 'community__section', attrs: { 'aria-labelledby': 'community-state-heading' } },
    h('h2', { id: 'community-state-heading', text: t('community.rejected.heading') }),
    h('p', { text: t('community.rejected.body') }),
    h('p', { class: 'callout__reason-label', text: t('community.rejected.reason') }),
    h('p', { class: 'callout__reason', text: membership.reason ?? '' }),
  );
}

function suspensionCallout(membership) {
  const until = suspendedUntil(membership);
  if (!until) return null;
  return h(
    'div',
    { class: 'callout callout--warning' },
    h('p', { text: t('community.suspended_until', { time: formatTime(until) }) }),
  );
}

/**
 * Creates the rules and, until I have accepted them, the button that
 * accepts the current version. `onAccepted()` runs once the server stored it.
 */
function rulesSection(ctx, membership, onAccepted) {
  const heading = h('h2', {
    id: 'community-rules-heading',
    text: t('community.rules.heading'),
    attrs: { tabindex: '-1' },
  });
  const section = h(
    'section',
    { class: 'community__section', attrs: { 'aria-labelledby': heading.id } },
    heading,
  );
  // Moderators need not accept the rules, but they moderate by them.
  if (membership.moderator) {
    section.append(h('p', { text: t('community.rules.moderator') }), rulesList());
    return section;
  }
  if (membership.rules_accepted) {
    section.append(h('p', { text: t('community.rules.accepted') }), rulesList());
    return section;
  }

  const alert = alertRegion();
  const button = h('button', {
    type: 'button',
    class: 'button',
    text: t('community.rules.accept'),
    on: { click: accept },
  });
  let busy = false;
  // NOTE: the rules' text is the page's own and written for version 1, so a
  // newer version on the server is accepted with this text until the page changes.
  async function accept() {
    if (busy) return;
    busy = true;
    button.disabled = true;
    alert.textContent = '';
    try {
      const { version } = await fetchRules();
      await acceptRules(version);
      if (ctx.signal.aborted) return;
      onAccepted();
    } catch (error) {
      if (ctx.signal.aborted) return;
      alert.textContent = describeError(error);
      button.disabled = false;
      focusElement(button);
    } finally {
      busy = false;
    }
  }
  section.append(
    h('p', { text: t('community.rules.intro') }),
    rulesList(),
    alert,
    h('div', { class: 'actions' }, button),
  );
  return section;
}

/** Creates one group of the list, with the button that fits my place in it. */
function groupItem(group, membership, join) {
  const readable = canReadGroup(group, membership);
  const title = readable
    ? h('a', { href: groupHref(group.id), text: group.name })
    : h('span', { text: group.name });
  const joinKind = group.join === 'approval' ? 'approval' : 'open';
  const badges = [
    h('span', { class: 'badge', text: t(`community.group.join.${joinKind}`) }),
    ' ',
    h('span', { text: tPlural('community.group.topic_count', group.topic_count ?? 0) }),
  ];
  if (group.membership === 'member') {
    const badge = h('span', { class: 'badge badge--current', text: t('community.group.member') });
    badges.push(' ', badge);
  } else if (group.membership === 'requested') {
    badges.push(' ', h('span', { class: 'badge', text: t('community.group.requested') }));
  }

  let button = null;
  if (group.membership === 'member') {
    button = contextButton(
      'button button--secondary',
      t('community.group.leave'),
      group.name,
      () => join.leave(group, button),
    );
  } else if (group.membership !== 'requested') {
    const key = joinKind === 'approval' ? 'community.group.request' : 'community.group.join_now';
    button = contextButton('button', t(key), group.name, () => join.join(group, button));
  }

  return h(
    'li',
    { class: 'case-card community-group', dataset: { groupId: group.id } },
    h('h3', { class: 'case-card__title' }, title),
    group.description
      ? h('p', { class: 'community-group__description', text: group.description })
      : null,
    h('p', { class: 'case-card__meta' }, badges),
    button ? h('div', { class: 'actions' }, button) : null,
  );
}

/** Creates the search box, which opens the search page with its results. */
function searchSection() {
  const headingId = 'community-search-heading';
  const form = searchForm({
    id: 'community-home-search',
    onSearch: (words) => {
      location.hash = searchHref(words);
    },
  });
  return h(
    'section',
    { class: 'community__section', attrs: { 'aria-labelledby': headingId } },
    h('h2', { id: headingId, text: t('community.search.heading') }),
    form.element,
  );
}

/** Creates the list of groups and loads it. Returns `{ element, heading, load }`. */
function groupsSection(ctx, membership) {
  const heading = h('h2', {
    id: 'community-groups-heading',
    text: t('community.groups.heading'),
    attrs: { tabindex: '-1' },
  });
  const loading = statusRegion();
  const notice = statusRegion();
  const alert = alertRegion();
  const list = h('ul', { class: 'case-list', attrs: { 'aria-labelledby': heading.id } });

  let busy = false;
  async function act(request, doneText, button) {
    if (busy) return;
    busy = true;
    button.disabled = true;
    notice.textContent = '';
    alert.textContent = '';
    try {
      const result = await request();
      if (ctx.signal.aborted) return;
      notice.textContent = doneText(result);
      await load();
      focusElement(heading);
    } catch (error) {
      if (ctx.signal.aborted) return;
      alert.textContent = describeCommunityError(error, membership);
      button.disabled = false;
      focusElement(button);
    } finally {
      busy = false;
    }
  }
  const join = {
    join: (group, button) =>
      act(
        () => joinGroup(group.id),
        (result) =>
          t(
            result?.membership === 'requested'
              ? 'community.group.requested_done'
              : 'community.group.joined',
            { name: group.name },
          ),
        button,
      ),
    leave: (group, button) =>
      act(
        () => leaveGroup(group.id),
        () => t('community.group.left', { name: group.name }),
        button,
      ),
  };

  async function load() {
    loading.textContent = t('app.loading');
    try {
      const groups = await fetchGroups();
      if (ctx.signal.aborted) return;
      list.replaceChildren(...groups.map((group) => groupItem(group, membership, join)));
      if (groups.length === 0) {
        list.append(h('li', { class: 'empty', text: t('community.groups.empty') }));
      }
    } catch (error) {
      if (!ctx.signal.aborted) alert.textContent = describeError(error);
    } finally {
      if (!ctx.signal.aborted) loading.textContent = '';
    }
  }

  const element = h(
    'section',
    { class: 'community__section', attrs: { 'aria-labelledby': heading.id } },
    heading,
    loading,
    notice,
    alert,
    list,
  );
  return { element, heading, load };
}

export async function mount(main, ctx) {
  const title = t('community.title');
  ctx.setTitle(title);
  const heading = pageHeading(title);
  const panel = h('section', { class: 'panel community' }, heading);
  main.append(panel);
  const loading = statusRegion();
  const alert = alertRegion();
  panel.append(loading, alert);

  let nav = null;
  /**
   * Loads my membership and shows the part of the page that fits it, then
   * focuses the element with id `focusId`, or the page heading.
   */
  async function show({ focus = false, focusId = null } = {}) {
    loading.textContent = t('app.loading');
    let membership;
    let partners = [];
    try {
      membership = await fetchMembership();
      if (['none', 'rejected'].includes(membership.state)) partners = await loadPartners();
    } catch (error) {
      if (ctx.signal.aborted) return;
      loading.textContent = '';
      alert.textContent = describeError(error);
      return;
    }
    if (ctx.signal.aborted) return;
    loading.textContent = '';
    panel.replaceChildren(heading, loading, alert);
    nav?.remove();
    nav = null;

    if (isActive(membership)) {
      nav = communityNav(membership, COMMUNITY_HOME);
      main.insertBefore(nav, panel);
      const groups = groupsSection(ctx, membership);
      const suspension = suspensionCallout(membership);
      if (suspension) panel.append(suspension);
      const onAccepted = () => show({ focus: true, focusId: 'community-rules-heading' });
      panel.append(rulesSection(ctx, membership, onAccepted), searchSection(), groups.element);
      if (membership.moderator) {
        // The new group joins the list, so focus moves to the list's heading.
        const onCreated = async () => {
          await groups.load();
          if (!ctx.signal.aborted) focusElement(groups.heading);
        };
        panel.append(newGroupSection(ctx, membership, onCreated));
      }
      await groups.load();
    } else if (membership.state === 'applied') {
      panel.append(appliedSection(membership));
    } else if (membership.state === 'rejected') {
      // A new application replaces the one turned down.
      panel.append(
        rejectedSection(membership),
        applySection(ctx, partners, () => show({ focus: true }), { again: true }),
      );
    } else {
      panel.append(applySection(ctx, partners, () => show({ focus: true })));
    }
    if (focus) focusElement((focusId && document.getElementById(focusId)) || heading);
  }

  await show();
}
