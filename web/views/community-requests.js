// "Requests to join" (#/community/moderation/requests), for moderators:
// for each group that members join by approval, the requests waiting,
// each with Approve and Decline.

import { decideJoinRequest, fetchGroups, fetchJoinRequests } from '../community-api.js';
import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import { communityPage, contextButton, memberHref, timeElement } from './community-parts.js';
import { alertRegion, describeError, statusRegion } from './common.js';

function requestItem(group, request, decide) {
  const context = t('community.requests.context', {
    name: request.display_name,
    group: group.name,
  });
  const approve = contextButton('button', t('community.requests.approve'), context, () =>
    decide(group, request, 'approve', approve),
  );
  const decline = contextButton(
    'button button--secondary',
    t('community.requests.decline'),
    context,
    () => decide(group, request, 'decline', decline),
  );
  return h(
    'li',
    { class: 'worker-card', dataset: { userId: request.user_id } },
    h(
      'h3',
      { class: 'worker-card__title' },
      h('a', { href: memberHref(request.user_id), text: request.display_name }),
    ),
    h(
      'p',
      { class: 'worker-card__meta' },
      t('community.requests.requested'),
      ' ',
      timeElement(request.requested_at),
    ),
    h('div', { class: 'actions' }, approve, decline),
  );
}

function groupSection(group, requests, decide) {
  const headingId = `community-requests-${group.id}`;
  const list = h('ul', { class: 'worker-list', attrs: { 'aria-labelledby': headingId } });
  list.append(...requests.map((request) => requestItem(group, request, decide)));
  if (requests.length === 0) {
    list.append(h('li', { class: 'empty', text: t('community.requests.none') }));
  }
  return h(
    'section',
    { class: 'community__section', attrs: { 'aria-labelledby': headingId } },
    h('h2', { id: headingId, text: group.name }),
    list,
  );
}

export async function mount(main, ctx) {
  const page = await communityPage(main, ctx, {
    title: t('community.requests.title'),
    current: '#/community/moderation/requests',
    moderatorsOnly: true,
  });
  if (!page) return;
  const { panel, heading } = page;
  const loading = statusRegion();
  const notice = statusRegion();
  const alert = alertRegion();
  const groupsArea = h('div', {});
  panel.append(
    h('p', { text: t('community.requests.intro') }),
    loading,
    notice,
    alert,
    groupsArea,
  );

  async function load() {
    loading.textContent = t('app.loading');
    try {
      const groups = (await fetchGroups()).filter((group) => group.join === 'approval');
      const requests = await Promise.all(groups.map((group) => fetchJoinRequests(group.id)));
      if (ctx.signal.aborted) return;
      groupsArea.replaceChildren(
        ...groups.map((group, index) => groupSection(group, requests[index], decide)),
      );
      if (groups.length === 0) {
        groupsArea.append(h('p', { class: 'empty', text: t('community.requests.no_groups') }));
      }
    } catch (error) {
      if (!ctx.signal.aborted) alert.textContent = describeError(error);
    } finally {
      if (!ctx.signal.aborted) loading.textContent = '';
    }
  }

  let busy = false;
  async function decide(group, request, decision, button) {
    if (busy) return;
    busy = true;
    button.disabled = true;
    notice.textContent = '';
    alert.textContent = '';
    try {
      await decideJoinRequest(group.id, request.user_id, decision);
      if (ctx.signal.aborted) return;
      notice.textContent = t(`community.requests.done.${decision}`, {
        name: request.display_name,
        group: group.name,
      });
      await load();
      focusElement(heading);
    } catch (error) {
      if (ctx.signal.aborted) return;
      alert.textContent = describeError(error);
      button.disabled = false;
      focusElement(button);
    } finally {
      busy = false;
    }
  }

  await load();
}
