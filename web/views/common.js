// Pieces shared by the views.

import { focusElement, h } from '../dom.js';
import { NETWORK_ERROR } from '../api.js';
import { errorText, t, tPlural } from '../i18n.js';

/** Creates the page's h1, focusable so the router can move focus to it. */
export function pageHeading(text, id) {
  return h('h1', { text, id, attrs: { tabindex: '-1' } });
}

/**
 * Adds the panel of a page that an emailed link opens, labelled by its h1
 * `headingId`, and returns `show(title, children, { focus })`, which
 * replaces the panel's content under a new h1 and focuses it when asked.
 */
export function linkPanel(main, ctx, headingId, className) {
  const section = h('section', { class: className, attrs: { 'aria-labelledby': headingId } });
  main.append(section);
  return function show(title, children, { focus = false } = {}) {
    const heading = pageHeading(title, headingId);
    ctx.setTitle(title);
    section.replaceChildren(heading, ...children);
    if (focus) focusElement(heading);
  };
}

/**
 * Shows why the request of a page that an emailed link opens failed: the
 * link's own page when `error.code` is one of `unusable`, otherwise the
 * error under `title` with a button labelled `retryLabel` that calls
 * `retry({ focus: true })`.
 */
export function showLinkFailure(
  error,
  { show, showUnusable, unusable, title, retryLabel, retry, focus },
) {
  if (unusable.has(error.code)) {
    showUnusable(error.code, { focus });
    return;
  }
  const alert = alertRegion();
  const button = h('button', {
    type: 'button',
    class: 'button',
    text: retryLabel,
    on: { click: () => retry({ focus: true }) },
  });
  show(title, [alert, h('div', { class: 'actions' }, button)]);
  alert.textContent = describeError(error);
}

/** Creates an alert region that stays in the page, so setting its text announces it. */
export function alertRegion() {
  return h('div', { class: 'alert', attrs: { role: 'alert' } });
}

/** Creates a polite status region for progress and confirmations. */
export function statusRegion(className = 'notice') {
  return h('p', { class: className, attrs: { role: 'status' } });
}

/** Returns catalogue text for an ApiError, with the request id for server failures. */
export function describeError(error) {
  if (error?.code === NETWORK_ERROR) return t('error.network');
  if (error?.code === 'auth.throttled' && error.retryAfterSeconds) {
    const minutes = Math.max(1, Math.ceil(error.retryAfterSeconds / 60));
    return tPlural('error.auth.throttled_wait', minutes);
  }
  const text = errorText(error?.code, error?.field);
  if (error?.status >= 500 && error.requestId) {
    return `${text} ${t('error.reference', { id: error.requestId })}`;
  }
  return text;
}

/** Returns the display names of the members other than me, joined as a list. */
export function otherMemberNames(summary, myUserId) {
  // The supervising practitioner is marked, so a family can tell who reads
  // along and whom to ask.
  const names = (summary.members ?? [])
    .filter((member) => member.user_id !== myUserId)
    .map((member) =>
      member.role === 'supervisor'
        ? t('conversations.supervisor_name', { name: member.display_name })
        : member.display_name,
    );
  if (names.length === 0) return t('conversations.no_other_members');
  return new Intl.ListFormat(document.documentElement.lang, { type: 'conjunction' }).format(
    names,
  );
}

export function kindLabel(kind) {
  return t(`conversations.kind.${kind === 'contact_link' ? 'contact_link' : 'discussion'}`);
}
