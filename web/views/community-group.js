// One community group (#/community/groups/<id>): its topics, newest
// activity first, and a form that starts a topic, whose first post may
// show up to four images. The list follows the group live: each
// `community` frame of the group loads it again. Starting a topic needs
// the rules accepted and no suspension running. When either is missing,
// the page explains it in place of the form.

import { fetchGroups, fetchTopics, startTopic } from '../community-api.js';
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

function topicItem(topic) {
  return h(
    'li',
    { class: 'case-card community-topic', dataset: { topicId: topic.id } },
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
  );
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
  const list = h('ul', { class: 'case-list', attrs: { 'aria-labelledby': topicsHeading.id } });
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
      list,
    ),
    newTopicSection,
  );

  async function loadTopics() {
    try {
      const topics = await fetchTopics(groupId);
      if (ctx.signal.aborted) return;
      topicsAlert.textContent = '';
      list.replaceChildren(...topics.map(topicItem));
      if (topics.length === 0) {
        list.append(h('li', { class: 'empty', text: t('community.group.no_topics') }));
      }
    } catch (error) {
      if (!ctx.signal.aborted) topicsAlert.textContent = describeError(error);
    }
  }

  const openTopic = (topic) => {
    location.hash = topicHref(topic.id);
  };
  newTopicSection.append(
    postingBlock(membership, group) ?? topicForm(ctx, groupId, membership, openTopic),
  );
  followGroup(ctx, groupId, loadTopics);
  await loadTopics();
}
