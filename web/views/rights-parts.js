// Pieces shared by the two rights request pages: the rights and states
// with their catalogue labels, the checks of free text that mirror the
// server's, and the facts every listed request shows.

import { h } from '../dom.js';
import { formatDate, formatDay } from '../format.js';
import { t } from '../i18n.js';
import { charCount } from './case-form-parts.js';

/** The rights a request can be about, in the order the pages offer them. */
export const RIGHTS_KINDS = ['access', 'correction', 'erasure', 'restriction', 'marketing'];
const STATES = new Set(['received', 'in_progress', 'completed', 'refused']);

/** The maximum length of a request's details, in characters, as the server checks it. */
export const DETAILS_MAX_CHARS = 2000;

/**
 * Control characters other than line breaks and tabs, and the characters
 * that change the direction of text, which the server rejects in free text.
 */
const HIDDEN_CHARACTER =
  /(?![\n\r\t])[\p{Cc}\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;

/**
 * Returns the catalogue key of the problem with the trimmed free text
 * `text` under catalogue prefix `prefix`: `<prefix>_missing` when it is
 * empty and `required`, `<prefix>_long` over `maxChars` characters,
 * `<prefix>_hidden` with a character the server rejects, else null.
 */
export function textProblem(text, { prefix, maxChars, required }) {
  if (!text) return required ? `${prefix}_missing` : null;
  if (charCount(text) > maxChars) return `${prefix}_long`;
  if (HIDDEN_CHARACTER.test(text)) return `${prefix}_hidden`;
  return null;
}

export function stateLabel(state) {
  return t(STATES.has(state) ? `rights.state.${state}` : 'rights.state.unknown');
}

/** Creates the badges of a request's state and, while it is late, of being overdue. */
export function stateBadges(request) {
  const state = STATES.has(request.state) ? request.state : 'unknown';
  return [
    h('span', { class: `badge badge--rights-${state}`, text: stateLabel(request.state) }),
    request.overdue ? ' ' : null,
    request.overdue
      ? h('span', { class: 'badge badge--rights-overdue', text: t('rights.overdue') })
      : null,
  ];
}

/**
 * Creates the list of a request's days: received, due and, once it is
 * closed, closed. The due day is a calendar date in UTC.
 */
export function requestDays(request) {
  const rows = [
    [t('rights.received'), formatDay(request.received_at)],
    [t('rights.due'), formatDate(request.due_on)],
  ];
  if (request.closed_at) rows.push([t('rights.closed'), formatDay(request.closed_at)]);
  return h(
    'dl',
    { class: 'rights-card__days' },
    rows.flatMap(([term, value]) => [h('dt', { text: term }), h('dd', { text: value })]),
  );
}

/** Creates the box with a refusal's legal reason, or null for a request not refused. */
export function refusalReason(request) {
  if (request.state !== 'refused' || !request.reason) return null;
  return h(
    'div',
    { class: 'callout callout--important' },
    h('p', { class: 'callout__reason-label', text: t('rights.refusal_reason') }),
    h('p', { class: 'callout__reason', text: request.reason }),
  );
}

/** Creates the box with the details of a request, or null when it has none. */
export function requestDetails(request) {
  if (!request.details) return null;
  return [
    h('p', { class: 'callout__reason-label', text: t('rights.details_heading') }),
    h('p', { class: 'callout__reason', text: request.details }),
  ];
}
