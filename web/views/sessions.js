// "My sessions": every browser where I am signed in, with a Revoke button
// for each one except the current session, which has Sign out instead.

import { fetchSessions, revokeSession } from '../api.js';
import { focusElement, h } from '../dom.js';
import { describeUserAgent, formatTime } from '../format.js';
import { t } from '../i18n.js';
import { alertRegion, describeError, pageHeading, statusRegion } from './common.js';

function timeElement(iso) {
  return h('time', { dateTime: iso, text: formatTime(iso) });
}

function sessionItem(session, actions) {
  const browser = describeUserAgent(session.user_agent);
  const details = h(
    'dl',
    { class: 'session-card__details' },
    h('dt', { text: t('sessions.created') }),
    h('dd', {}, timeElement(session.created_at)),
    h('dt', { text: t('sessions.last_seen') }),
    h('dd', {}, timeElement(session.last_seen_at)),
  );

  let footer;
  if (session.current) {
    footer = h(
      'div',
      { class: 'session-card__actions' },
      h('p', { text: t('sessions.current_hint') }),
      h('button', {
        type: 'button',
        class: 'button button--secondary',
        text: t('nav.sign_out'),
        on: { click: actions.signOut },
      }),
    );
  } else {
    const context = t('sessions.revoke_context', {
      browser,
      created: formatTime(session.created_at),
    });
    footer = h(
      'div',
      { class: 'session-card__actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'button button--danger',
          on: { click: () => actions.revoke(session, browser) },
        },
        t('sessions.revoke'),
        h('span', { class: 'visually-hidden', text: ` ${context}` }),
      ),
    );
  }

  return h(
    'li',
    { class: 'session-card', dataset: { sessionId: session.id, current: String(session.current) } },
    h(
      'h2',
      { class: 'session-card__title' },
      browser,
      session.current
        ? h('span', { class: 'badge badge--current', text: t('sessions.current') })
        : null,
    ),
    details,
    footer,
  );
}

export async function mount(main, ctx) {
  ctx.setTitle(t('sessions.title'));
  const heading = pageHeading(t('sessions.title'));
  const notice = statusRegion();
  const alert = alertRegion();
  const list = h('ul', { class: 'session-list' });
  main.append(
    h(
      'section',
      { class: 'panel' },
      heading,
      h('p', { text: t('sessions.intro') }),
      notice,
      alert,
      list,
    ),
  );

  let busy = false;
  const actions = {
    signOut: () => ctx.signOut(),
    revoke: async (session, browser) => {
      if (busy) return;
      busy = true;
      alert.textContent = '';
      try {
        await revokeSession(session.id);
        if (ctx.signal.aborted) return;
        notice.textContent = t('sessions.revoked', { browser });
        await load();
        // The button that had focus is gone, so focus moves to the heading.
        focusElement(heading);
      } catch (error) {
        if (!ctx.signal.aborted) alert.textContent = describeError(error);
      } finally {
        busy = false;
      }
    },
  };

  async function load() {
    try {
      const sessions = await fetchSessions();
      if (ctx.signal.aborted) return;
      list.replaceChildren(...sessions.map((session) => sessionItem(session, actions)));
    } catch (error) {
      if (!ctx.signal.aborted) alert.textContent = describeError(error);
    }
  }

  notice.textContent = t('app.loading');
  await load();
  if (notice.textContent === t('app.loading')) notice.textContent = '';
}
