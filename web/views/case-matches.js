// Matches on the case page. For one of my organisation's cases, the
// server's suggestions of the other kind, best first. For a case of
// another organisation, how it fits each of my own cases of the other
// kind, found in the suggestions for each of those.

import { fetchMatchPair, fetchMatches, fetchOwnCases } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { caseItem } from './cases.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import { caseTitle } from './family-finding.js';
import { criteriaList, scoreText } from './match-explanation.js';

/** Creates the score in words and the criteria of a suggestion. */
export function explanation(suggestion) {
  return [
    h('p', { class: 'match__score', text: scoreText(suggestion) }),
    criteriaList(suggestion.criteria),
  ];
}

/** Creates an area of the case page with a heading, a loading line, an alert and a list. */
function area(headingId, title, intro) {
  const loading = statusRegion();
  const alert = alertRegion();
  const list = h('ul', { class: 'case-list', attrs: { 'aria-labelledby': headingId } });
  const element = h(
    'section',
    { class: 'ff-section', attrs: { 'aria-labelledby': headingId } },
    h('h2', { id: headingId, text: title }),
    intro ? h('p', { text: intro }) : null,
    loading,
    alert,
    list,
  );
  return { element, loading, alert, list };
}

/** Creates the suggested matches of `loaded`, one of my organisation's cases, and loads them. */
export function matchesArea(ctx, loaded) {
  const other = loaded.kind === 'child' ? 'family' : 'child';
  const parts = area('matches-heading', t('matches.title'), t(`matches.intro.${other}`));
  parts.loading.textContent = t('app.loading');
  fetchMatches(loaded.id)
    .then((suggestions) => {
      if (ctx.signal.aborted) return;
      parts.list.replaceChildren(
        ...suggestions.map((suggestion) =>
          caseItem(suggestion.case, { extra: explanation(suggestion) }),
        ),
      );
      if (suggestions.length === 0) {
        parts.list.append(h('li', { class: 'empty', text: t(`matches.empty.${other}`) }));
      }
    })
    .catch((error) => {
      if (!ctx.signal.aborted) parts.alert.textContent = describeError(error);
    })
    .finally(() => {
      if (!ctx.signal.aborted) parts.loading.textContent = '';
    });
  return { element: parts.element };
}

/**
 * Returns, for each of my own cases of the other kind than `loaded`, the
 * explained fit of the pair, whether or not `loaded` is among that case's
 * suggestions. Resolves to `[{ own, suggestion }]`.
 */
export async function fitsWithOwnCases(loaded) {
  const otherKind = loaded.kind === 'child' ? 'family' : 'child';
  const ownCases = await fetchOwnCases(otherKind);
  return Promise.all(
    ownCases.map(async (own) => ({ own, suggestion: await fetchMatchPair(own.id, loaded.id) })),
  );
}

/**
 * Creates the explanation of how a case fits one of my cases, under a
 * heading of level `headingLevel` with my case's title; with no
 * `suggestion`, the title alone.
 */
export function fitItem({ own, suggestion }, headingLevel = 'h3') {
  return h(
    'li',
    { class: 'case-card', dataset: { caseId: own.id } },
    h(
      headingLevel,
      { class: 'case-card__title' },
      h('a', { href: `#/cases/${own.id}`, text: caseTitle(own) }),
    ),
    suggestion ? explanation(suggestion) : null,
  );
}

/**
 * Creates the area showing how `loaded`, a family case of another
 * organisation, fits each of my child cases, and loads it.
 */
export function fitArea(ctx, loaded) {
  const parts = area('fit-heading', t('matches.fit_title.child'), t('matches.fit_intro'));
  parts.loading.textContent = t('app.loading');
  fitsWithOwnCases(loaded)
    .then((fits) => {
      if (ctx.signal.aborted) return;
      parts.list.replaceChildren(...fits.map((fit) => fitItem(fit)));
      if (fits.length === 0) {
        parts.list.append(h('li', { class: 'empty', text: t('matches.fit_empty.child') }));
      }
    })
    .catch((error) => {
      if (!ctx.signal.aborted) parts.alert.textContent = describeError(error);
    })
    .finally(() => {
      if (!ctx.signal.aborted) parts.loading.textContent = '';
    });
  return { element: parts.element };
}
