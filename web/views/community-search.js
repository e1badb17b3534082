// Searching the community's posts (#/community/search?q=WORDS). The
// community home has the same search box, which opens this page. The
// server finds the visible posts of the groups I may read that contain
// every word, in the post or its topic's title, best matches first. The
// words go into the address, so Back from a topic returns to the same
// results. Each hit shows its topic's title, its group, its author and an
// excerpt, all as text, and links to the topic.

import { searchCommunity } from '../community-api.js';
import { focusElement, h } from '../dom.js';
import { t, tPlural } from '../i18n.js';
import {
  authorElement,
  charCount,
  COMMUNITY_HOME,
  communityPage,
  topicHref,
} from './community-parts.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import { clearFieldError, field, showFieldError } from './fields.js';

const SEARCH_ROUTE = '#/community/search';
/** Maximum characters of a search, as the server allows. */
export const QUERY_MAX_CHARS = 200;
/** Maximum hits the server returns for one search. */
const MAX_HITS = 50;

/** Returns the address of the search page with the results for `query`. */
export function searchHref(query) {
  return `${SEARCH_ROUTE}?${new URLSearchParams({ q: query })}`;
}

/**
 * Creates the search box with ids starting `id`, filled with `query`.
 * `onSearch(words)` runs with the trimmed words once they pass the checks
 * the page can make. The server decides whether they hold a word long
 * enough to search for. Returns `{ element, showQueryError() }`, where
 * `showQueryError` marks the box with the text of a rejected search.
 */
export function searchForm({ id, query = '', onSearch }) {
  const queryField = field({
    id: `${id}-query`,
    name: 'q',
    type: 'search',
    label: t('community.search.label'),
    hint: t('community.search.hint'),
    attrs: { autocomplete: 'off', maxlength: QUERY_MAX_CHARS, enterkeyhint: 'search' },
  });
  queryField.input.value = query;
  const submit = h('button', {
    type: 'submit',
    class: 'button',
    text: t('community.search.submit'),
  });
  const element = h(
    'form',
    {
      class: 'form community-search',
      noValidate: true,
      attrs: { role: 'search', 'aria-label': t('community.search.form_label') },
    },
    queryField.wrapper,
    h('div', { class: 'actions' }, submit),
  );

  function showError(key) {
    showFieldError(queryField, t(key, { max: QUERY_MAX_CHARS }));
    focusElement(queryField.input);
  }

  element.addEventListener('submit', (event) => {
    event.preventDefault();
    clearFieldError(queryField);
    const words = queryField.input.value.trim();
    if (words.length === 0) {
      showError('community.search.query_missing');
      return;
    }
    if (charCount(words) > QUERY_MAX_CHARS) {
      showError('community.search.query_invalid');
      return;
    }
    onSearch(words);
  });

  return { element, showQueryError: () => showError('community.search.query_invalid') };
}

function hitItem(hit) {
  return h(
    'li',
    { class: 'case-card community-hit', dataset: { postId: hit.post_id } },
    h(
      'h3',
      { class: 'case-card__title' },
      h('a', { href: topicHref(hit.topic_id), text: hit.title ?? '' }),
    ),
    h(
      'p',
      { class: 'case-card__meta' },
      t('community.search.in_group', { group: hit.group_name ?? '' }),
      '. ',
      t('community.search.by'),
      ' ',
      authorElement(hit.author),
    ),
    h('p', { class: 'community-hit__excerpt', text: hit.excerpt ?? '' }),
  );
}

export async function mount(main, ctx, [queryString]) {
  const page = await communityPage(main, ctx, {
    title: t('community.search.title'),
    current: COMMUNITY_HOME,
  });
  if (!page) return;
  const { panel } = page;
  const initial = (new URLSearchParams(queryString ?? '').get('q') ?? '').trim();

  const resultsHeading = h('h2', {
    id: 'community-search-results',
    text: t('community.search.results'),
    attrs: { tabindex: '-1' },
  });
  const summary = statusRegion();
  const alert = alertRegion();
  const list = h('ul', { class: 'case-list', attrs: { 'aria-labelledby': resultsHeading.id } });
  const results = h(
    'section',
    { class: 'community__section', attrs: { 'aria-labelledby': resultsHeading.id } },
    resultsHeading,
    summary,
    alert,
    list,
  );
  results.hidden = true;
  const form = searchForm({
    id: 'community-search',
    query: initial,
    onSearch: (words) => run(words, { focusResults: true }),
  });
  panel.prepend(
    h('p', {}, h('a', { href: COMMUNITY_HOME, class: 'back-link', text: t('community.back') })),
  );
  panel.append(form.element, results);

  // Only the newest search's response is shown, whatever order they arrive in.
  let sequence = 0;
  /** Runs the search for `words` and records it in the address. */
  async function run(words, { focusResults }) {
    sequence += 1;
    const mine = sequence;
    history.replaceState(history.state, '', searchHref(words));
    results.hidden = false;
    alert.textContent = '';
    summary.textContent = t('community.search.searching');
    try {
      const hits = await searchCommunity(words);
      if (ctx.signal.aborted || mine !== sequence) return;
      list.replaceChildren(...hits.map(hitItem));
      const found =
        hits.length === 0
          ? t('community.search.none')
          : tPlural('community.search.found', hits.length);
      summary.textContent =
        hits.length >= MAX_HITS
          ? `${found} ${t('community.search.limit', { max: MAX_HITS })}`
          : found;
      if (focusResults) focusElement(resultsHeading);
    } catch (error) {
      if (ctx.signal.aborted || mine !== sequence) return;
      summary.textContent = '';
      list.replaceChildren();
      if (error.code === 'request.invalid_field' && error.field === 'q') {
        results.hidden = true;
        form.showQueryError();
      } else {
        alert.textContent = describeError(error);
      }
    }
  }

  if (initial) await run(initial, { focusResults: false });
}
