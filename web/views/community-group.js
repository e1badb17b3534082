// One community group (#/community/groups/<id>): its topics, newest
// activity first, and a form that starts a topic, whose first post may
// show up to four images. The server lists topics a page at a time, and a
// "Show older topics" button appends the next page while the last one was
// full. The list follows the group live: each `community` frame of the
// group loads the first page again and keeps the older pages shown.
// Starting a topic needs the rules accepted and no suspension running.
// When either is missing, the page explains it in place of the form.

import { fetchGroups, fetchTopics, startTopic, TOPICS_PAGE_SIZE } from '../community-api.js';
import { focusElement, h } from '../dom.js';
import { t, tPlural } from '../i18n.js';
import {
  authorElement,
  BODY_MAX_CHARS,
  canReadGroup,
  charCount,
  COMMUNITY_HOME,
  communityPage,
  describeCommunityError,
  followGroup,
  postingBlock,
  timeElement,
  TITLE_MAX_CHARS,
  topicHref,
} from './community-parts.js';
import { ImagePicker } from './community-image-picker.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import { clearFieldError, field, showFieldError } from './fields.js';

/** Creates the title link and the details of a topic's list item. */
function topicDetails(topic) {
  return [
    h(
      'h3',
      { class: 'case-card__title' },
      h('a', { href: topicHref(topic.id), text: topic.title }),
    ),
    h(
      'p',
      { class: 'case-card__meta' },
      t('community.topic.started_by'),
      ' ',
      authorElement(topic.author),
      ', ',
      timeElement(topic.created_at),
    ),
    h(
      'p',
      { class: 'case-card__meta' },
      tPlural('community.topic.replies', topic.reply_count ?? 0),
      '. ',
      t('community.topic.last_post'),
      ' ',
      timeElement(topic.last_post_at ?? topic.created_at),
    ),
  ];
}

/**
 * The topics shown, each kept in one list item across reloads, so that
 * keyboard focus on a topic's link survives a live update.
 */
class TopicList {
  constructor(labelledBy) {
    /** Per topic id: `{ element, topic }`. */
    this.entries = new Map();
    this.empty = h('li', { class: 'empty', text: t('community.group.no_topics') });
    this.list = h('ul', { class: 'case-list', attrs: { 'aria-labelledby': labelledBy } });
  }

  /** Shows `topics` in their order, updating the topics already shown and removing the rest. */
  show(topics) {
    const focusedId = this.#focusedTopicId();
    const seen = new Set();
    let previous = null;
    for (const topic of topics) {
      seen.add(topic.id);
      const element = this.#update(topic);
      const expected = previous ? previous.nextElementSibling : this.list.firstElementChild;
      if (expected !== element) this.list.insertBefore(element, expected);
      previous = element;
    }
    for (const [topicId, entry] of this.entries) {
      if (seen.has(topicId)) continue;
      entry.element.remove();
      this.entries.delete(topicId);
    }
    if (topics.length === 0) this.list.append(this.empty);
    else this.empty.remove();
    // Moving an item or rebuilding its link takes the focus away, so it goes back.
    if (focusedId && !this.list.contains(document.activeElement)) this.focus(focusedId);
  }

  /** Moves keyboard focus to the title link of the topic `topicId`, when it is shown. */
  focus(topicId) {
    focusElement(this.entries.get(topicId)?.element.querySelector('a'));
  }

  #focusedTopicId() {
    const active = document.activeElement;
    if (!active || !this.list.contains(active)) return null;
    return active.closest('li')?.dataset.topicId ?? null;
  }

  #update(topic) {
    let entry = this.entries.get(topic.id);
    if (!entry) {
      const element = h('li', {
        class: 'case-card community-topic',
        dataset: { topicId: topic.id },
      });
      entry = { element, topic: null };
      this.entries.set(topic.id, entry);
    }
    if (JSON.stringify(entry.topic) !== JSON.stringify(topic)) {
      entry.topic = topic;
      entry.element.replaceChildren(...topicDetails(topic));
    }
    return entry.element;
  }
}

/**
 * Creates the form that starts a topic in `groupId`. `onStarted(topic)`
 * runs after the server stored it.
 */
function topicForm(ctx, groupId, membership, onStarted) {
  const alert = alertRegion();
  const titleField = field({
    id: 'community-topic-title',
    name: 'title',
    label: t('community.topic.title_label'),
    hint: t('community.topic.title_hint', { max: TITLE_MAX_CHARS }),
    attrs: { autocomplete: 'off', maxlength: TITLE_MAX_CHARS },
  });
  const bodyField = field({
    id: 'community-topic-body',
    name: 'body',
    tag: 'textarea',
    label: t('community.topic.body_label'),
    hint: t('community.post.body_hint', { max: BODY_MAX_CHARS.toLocaleString('en-GB') }),
  });
  bodyField.input.rows = 6;
  const images = new ImagePicker(ctx, { id: 'community-topic-images', membership });
  const submit = h('button', { type: 'submit', class: 'button', text: t('community.topic.start') });
  const form = h(
    'form',
    { class: 'form', noValidate: true, attrs: { 'aria-labelledby': 'community-new-topic' } },
    alert,
    titleField.wrapper,
    bodyField.wrapper,
    images.element,
    h('div', { class: 'actions' }, submit),
  );

  // Shows what is wrong with the title and the body, and focuses the first
  // field at fault. Returns whether both are fine.
  function check(title, body) {
    clearFieldError(titleField);
    clearFieldError(bodyField);
    const titleLength = charCount(title);
    const titleBad = titleLength === 0 || titleLength > TITLE_MAX_CHARS || /[\r\n]/.test(title);
    const bodyLength = charCount(body.trim());
    const bodyBad = bodyLength === 0 || charCount(body) > BODY_MAX_CHARS;
    if (bodyBad) showBodyError();
    if (titleBad) showTitleError();
    return !titleBad && !bodyBad;
  }
  function showTitleError() {
    showFieldError(titleField, t('community.topic.title_invalid', { max: TITLE_MAX_CHARS }));
    focusElement(titleField.input);
  }
  function showBodyError() {
    const max = BODY_MAX_CHARS.toLocaleString('en-GB');
    showFieldError(bodyField, t('community.post.body_invalid', { max }));
    focusElement(bodyField.input);
  }

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    alert.textContent = '';
    const title = titleField.input.value.trim();
    const body = bodyField.input.value;
    if (!check(title, body) || !images.check()) return;
    busy = true;
    submit.disabled = true;
    try {
      const topic = await startTopic(groupId, title, body, images.values());
      if (ctx.signal.aborted) return;
      images.posted();
      form.reset();
      onStarted(topic);
    } catch (error) {
      if (ctx.signal.aborted) return;
      if (error.code === 'request.invalid_field' && error.field === 'title') {
        showTitleError();
      } else if (error.code === 'request.invalid_field' && error.field === 'body') {
        showBodyError();
      } else if (!images.showServerError(error)) {
        alert.textContent = describeCommunityError(error, membership);
        focusElement(alert);
      }
    } finally {
      busy = false;
      submit.disabled = false;
    }
  });
  return form;
}

export async function mount(main, ctx, [groupId]) {
  const page = await communityPage(main, ctx, {
    title: t('community.group.title'),
    current: COMMUNITY_HOME,
  });
  if (!page) return;
  const { panel, heading, membership } = page;
  const loading = statusRegion();
  const alert = alertRegion();
  panel.prepend(
    h('p', {}, h('a', { href: COMMUNITY_HOME, class: 'back-link', text: t('community.back') })),
  );
  panel.append(loading, alert);

  let group;
  loading.textContent = t('app.loading');
  try {
    group = (await fetchGroups()).find((each) => each.id === groupId) ?? null;
  } catch (error) {
    if (ctx.signal.aborted) return;
    loading.textContent = '';
    alert.textContent = describeError(error);
    return;
  }
  if (ctx.signal.aborted) return;
  loading.textContent = '';
  if (!group) {
    alert.textContent = describeError({ code: 'resource.not_found' });
    return;
  }
  heading.textContent = group.name;
  ctx.setTitle(group.name);
  if (group.description) panel.append(h('p', { text: group.description }));

  if (!canReadGroup(group, membership)) {
    panel.append(h('p', { text: t('community.group.closed') }));
    return;
  }

  const topicsHeading = h('h2', { id: 'community-topics', text: t('community.group.topics') });
  const topicsAlert = alertRegion();
  const topics = new TopicList(topicsHeading.id);
  const olderStatus = statusRegion();
  const older = h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: t('community.group.older'),
    hidden: true,
  });
  const newTopicSection = h(
    'section',
    { class: 'community__section', attrs: { 'aria-labelledby': 'community-new-topic' } },
    h('h2', { id: 'community-new-topic', text: t('community.topic.new_heading') }),
  );
  panel.append(
    h(
      'section',
      { class: 'community__section', attrs: { 'aria-labelledby': topicsHeading.id } },
      topicsHeading,
      topicsAlert,
      topics.list,
      olderStatus,
      h('div', { class: 'actions' }, older),
    ),
    newTopicSection,
  );

  /** The topics shown, in their order: the first page, then the older pages loaded after it. */
  let shownTopics = [];
  /** Whether a page shorter than TOPICS_PAGE_SIZE has arrived, so no older topic is missing. */
  let reachedEnd = false;
  let loadingOlder = false;

  const showTopics = (list) => {
    shownTopics = list;
    topics.show(list);
    older.hidden = reachedEnd;
  };

  // Loads the first page again and keeps the older topics shown after it.
  // Those are not loaded again, but a new post moves its topic to the
  // front, into the first page, where it is updated.
  async function loadTopics() {
    try {
      const first = await fetchTopics(groupId);
      if (ctx.signal.aborted) return;
      topicsAlert.textContent = '';
      const firstIds = new Set(first.map((topic) => topic.id));
      let keptTopics = shownTopics.filter((topic) => !firstIds.has(topic.id));
      if (first.length < TOPICS_PAGE_SIZE) {
        // A short first page lists every topic of the group.
        reachedEnd = true;
        keptTopics = [];
      } else if (keptTopics.length === shownTopics.length && shownTopics.length > 0) {
        // A full page of newer activity since the last load, for example
        // while the connection was down, may leave a gap between it and the
        // topics shown, so paging starts again after the first page.
        reachedEnd = false;
        keptTopics = [];
      }
      showTopics([...first, ...keptTopics]);
    } catch (error) {
      if (!ctx.signal.aborted) topicsAlert.textContent = describeError(error);
    }
  }

  // Appends the next page. Newer activity moves topics to the front and
  // shifts the pages, so a topic shown already may come again and is
  // left out.
  async function loadOlderTopics() {
    if (loadingOlder) return;
    loadingOlder = true;
    // aria-disabled rather than disabled, which would take the focus from the button.
    older.setAttribute('aria-disabled', 'true');
    olderStatus.textContent = t('app.loading');
    try {
      const page = await fetchTopics(groupId, shownTopics.length);
      if (ctx.signal.aborted) return;
      topicsAlert.textContent = '';
      if (page.length < TOPICS_PAGE_SIZE) reachedEnd = true;
      const shownIds = new Set(shownTopics.map((topic) => topic.id));
      const added = page.filter((topic) => !shownIds.has(topic.id));
      showTopics([...shownTopics, ...added]);
      if (added.length > 0) {
        olderStatus.textContent = '';
        topics.focus(added[0].id);
      } else if (reachedEnd) {
        // The button is gone, so focus goes to the status that explains why.
        olderStatus.textContent = t('community.group.no_older');
        focusElement(olderStatus);
      } else {
        olderStatus.textContent = '';
      }
    } catch (error) {
      if (!ctx.signal.aborted) {
        olderStatus.textContent = '';
        topicsAlert.textContent = describeError(error);
      }
    } finally {
      loadingOlder = false;
      older.removeAttribute('aria-disabled');
    }
  }
  older.addEventListener('click', loadOlderTopics);

  const openTopic = (topic) => {
    location.hash = topicHref(topic.id);
  };
  newTopicSection.append(
    postingBlock(membership, group) ?? topicForm(ctx, groupId, membership, openTopic),
  );
  followGroup(ctx, groupId, loadTopics);
  await loadTopics();
}
