// One community topic (#/community/topics/<id>): its posts, the opening
// one first, each with its images, and a reply form that can add images.
// Each post other than my own has a Report button that opens a form for
// the reason. A moderator gets a Moderate button instead, to hide, remove
// or restore the post with a reason, and a button that passes the post to
// an organisation as a safeguarding concern. A hidden post shows its
// author the moderator's reason next to the text, and everyone else only
// that a moderator hid it. The server lists posts a page at a time, and a
// "Show more posts" button appends the next page while more follow. The
// page follows the topic's group live and loads the pages shown again
// after each `community` frame about the topic.
//
// Bodies are plain text and go into the page as text, never as markup.

import { fetchGroups, fetchTopic, replyToTopic, reportPost } from '../community-api.js';
import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import { concernTools, organisationLoader } from './community-concern-form.js';
import { ImagePicker } from './community-image-picker.js';
import { postImages } from './community-images.js';
import { postModerationForm } from './community-post-moderation.js';
import {
  authorElement,
  BODY_MAX_CHARS,
  charCount,
  COMMUNITY_HOME,
  communityPage,
  contextButton,
  describeCommunityError,
  followGroup,
  groupHref,
  postingBlock,
  timeElement,
} from './community-parts.js';
import { reasonForm } from './community-reason-form.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import { clearFieldError, field, showFieldError } from './fields.js';

/** Creates the text and images of a post that fit its state and what I may see of it. */
export function postContent(post) {
  const notice = (text) => h('p', { class: 'community-post__notice', text });
  const body = (text) => h('p', { class: 'community-post__body', text });
  if (post.state === 'hidden') {
    if (post.body === null || post.body === undefined) {
      return [notice(t('community.post.hidden'))];
    }
    const reason = post.reason
      ? t('community.post.hidden_reason', { reason: post.reason })
      : t('community.post.hidden');
    const parts = [notice(reason), body(post.body), postImages(post)];
    if (post.mine) {
      parts.push(h('p', { class: 'field__hint', text: t('community.post.hidden_mine') }));
    }
    return parts.filter(Boolean);
  }
  if (post.state === 'removed') {
    const text = post.reason
      ? t('community.post.removed_reason', { reason: post.reason })
      : t('community.post.removed');
    return [notice(text)];
  }
  return [body(post.body ?? ''), postImages(post)].filter(Boolean);
}

/** Returns the words that tell one post from another in a button's accessible name. */
function postContext(post) {
  return t('community.post.context', { name: post.author?.display_name ?? '' });
}

/**
 * The posts of the topic, each kept in one list item across reloads, so
 * that a form opened under a post stays open while other posts arrive.
 */
class PostList {
  /** `onModerated(text)` shows the outcome of a moderator's action on a post. */
  constructor(ctx, membership, onModerated) {
    this.ctx = ctx;
    this.membership = membership;
    this.onModerated = onModerated;
    this.organisations = organisationLoader();
    /** Per post id: `{ element, content, tools, post, toolsState, reported }`. */
    this.entries = new Map();
    this.list = h('ol', {
      class: 'community-posts',
      attrs: { 'aria-labelledby': 'posts-heading' },
    });
  }

  /** Shows `posts` in their order, updating the posts already shown. */
  show(posts) {
    const seen = new Set();
    let previous = null;
    for (const post of posts) {
      seen.add(post.id);
      const entry = this.#update(post);
      const expected = previous ? previous.nextElementSibling : this.list.firstElementChild;
      if (expected !== entry.element) this.list.insertBefore(entry.element, expected);
      previous = entry.element;
    }
    for (const [postId, entry] of this.entries) {
      if (seen.has(postId)) continue;
      entry.element.remove();
      this.entries.delete(postId);
    }
  }

  /** Moves keyboard focus to the post `postId`, when it is shown. */
  focus(postId) {
    focusElement(this.entries.get(postId)?.element);
  }

  #update(post) {
    let entry = this.entries.get(post.id);
    if (!entry) {
      const content = h('div', { class: 'community-post__content' });
      const tools = h('div', { class: 'community-post__tools' });
      const element = h('li', { class: 'community-post' }, content, tools);
      entry = { element, content, tools, post: null, toolsState: null, reported: false };
      this.entries.set(post.id, entry);
    }
    if (JSON.stringify(entry.post) !== JSON.stringify(post)) {
      entry.post = post;
      entry.element.dataset.postId = post.id;
      entry.element.dataset.state = post.state;
      entry.element.classList.toggle('community-post--mine', Boolean(post.mine));
      entry.content.replaceChildren(
        h(
          'p',
          { class: 'community-post__meta' },
          authorElement(post.author),
          ', ',
          timeElement(post.created_at),
        ),
        ...postContent(post),
      );
    }
    if (entry.toolsState !== post.state) {
      entry.toolsState = post.state;
      entry.tools.replaceChildren(...this.#tools(entry));
    }
    return entry;
  }

  #tools(entry) {
    if (this.membership.moderator) return this.#moderatorTools(entry);
    return this.#reportTools(entry);
  }

  #reportTools(entry) {
    const post = entry.post;
    if (post.mine || post.state !== 'visible' || entry.reported) return [];
    const status = statusRegion();
    const open = contextButton(
      'button button--secondary button--small',
      t('community.report.open'),
      postContext(post),
      () => {
        open.hidden = true;
        form.element.hidden = false;
        form.focus();
      },
    );
    const close = () => {
      form.element.hidden = true;
      open.hidden = false;
      focusElement(open);
    };
    const form = reasonForm({
      id: `post-${post.id}-report`,
      label: t('community.report.form_label', { name: post.author?.display_name ?? '' }),
      reasonLabel: t('community.report.reason_label'),
      submitLabel: t('community.report.submit'),
      membership: this.membership,
      cancel: close,
      submit: async ({ reason }) => {
        try {
          await reportPost(post.id, reason);
        } catch (error) {
          if (error.code !== 'resource.conflict') throw error;
          // A member has one open report per post, so mine is there already.
        }
        if (this.ctx.signal.aborted) return;
        entry.reported = true;
        status.textContent = t('community.report.sent');
        focusElement(status);
        form.element.remove();
        open.remove();
      },
    });
    form.element.hidden = true;
    return [open, form.element, status];
  }

  #moderatorTools(entry) {
    const post = entry.post;
    if (post.state === 'removed') return [];
    const open = contextButton(
      'button button--secondary button--small',
      t('community.moderate.open'),
      postContext(post),
      () => {
        open.hidden = true;
        form.element.hidden = false;
        form.focus();
      },
    );
    const form = postModerationForm({
      post,
      membership: this.membership,
      cancel: () => {
        form.element.hidden = true;
        open.hidden = false;
        focusElement(open);
      },
      done: (moderated, action) => {
        if (this.ctx.signal.aborted) return;
        // The form goes with the post's old state, so focus moves to the post.
        this.#update({ ...entry.post, ...moderated });
        this.onModerated(t(`community.moderate.done.${action}`));
        focusElement(entry.element);
      },
    });
    if (!form) return [];
    form.element.hidden = true;
    const concern = concernTools({
      ctx: this.ctx,
      post,
      membership: this.membership,
      id: `post-${post.id}-concern`,
      organisations: this.organisations,
    });
    const buttons = h('div', { class: 'actions' }, open, concern.open);
    return [buttons, form.element, concern.form, concern.status];
  }
}

/** Creates the reply form. `onReplied()` runs after the server stored a reply. */
function replyForm(ctx, topicId, membership, onReplied) {
  const alert = alertRegion();
  const notice = statusRegion();
  const bodyField = field({
    id: 'community-reply-body',
    name: 'body',
    tag: 'textarea',
    label: t('community.reply.label'),
    hint: t('community.post.body_hint', { max: BODY_MAX_CHARS.toLocaleString('en-GB') }),
  });
  bodyField.input.rows = 4;
  const images = new ImagePicker(ctx, { id: 'community-reply-images', membership });
  const submit = h('button', {
    type: 'submit',
    class: 'button',
    text: t('community.reply.submit'),
  });
  const form = h(
    'form',
    { class: 'form', noValidate: true, attrs: { 'aria-labelledby': 'community-reply-heading' } },
    alert,
    bodyField.wrapper,
    images.element,
    h('div', { class: 'actions' }, submit),
    notice,
  );
  const showBodyError = () => {
    const max = BODY_MAX_CHARS.toLocaleString('en-GB');
    showFieldError(bodyField, t('community.post.body_invalid', { max }));
    focusElement(bodyField.input);
  };

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    alert.textContent = '';
    notice.textContent = '';
    clearFieldError(bodyField);
    const body = bodyField.input.value;
    if (charCount(body.trim()) === 0 || charCount(body) > BODY_MAX_CHARS) {
      showBodyError();
      return;
    }
    if (!images.check()) return;
    busy = true;
    submit.disabled = true;
    try {
      await replyToTopic(topicId, body, images.values());
      if (ctx.signal.aborted) return;
      bodyField.input.value = '';
      images.posted();
      notice.textContent = t('community.reply.sent');
      onReplied();
    } catch (error) {
      if (ctx.signal.aborted) return;
      if (error.code === 'request.invalid_field' && error.field === 'body') {
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

export async function mount(main, ctx, [topicId]) {
  const page = await communityPage(main, ctx, {
    title: t('community.topic.page_title'),
    current: COMMUNITY_HOME,
  });
  if (!page) return;
  const { panel, heading, membership } = page;
  const backLink = h('a', { href: COMMUNITY_HOME, class: 'back-link', text: t('community.back') });
  const loading = statusRegion();
  const alert = alertRegion();
  panel.prepend(h('p', {}, backLink));
  panel.append(loading, alert);

  let topic;
  let group;
  loading.textContent = t('app.loading');
  try {
    topic = await fetchTopic(topicId);
    group = (await fetchGroups()).find((each) => each.id === topic.group_id) ?? null;
  } catch (error) {
    if (ctx.signal.aborted) return;
    loading.textContent = '';
    alert.textContent = describeError(error);
    return;
  }
  if (ctx.signal.aborted) return;
  loading.textContent = '';
  heading.textContent = topic.title;
  ctx.setTitle(topic.title);
  backLink.href = groupHref(topic.group_id);
  backLink.textContent = group
    ? t('community.topic.back', { name: group.name })
    : t('community.topic.back_unnamed');

  const moderationNotice = statusRegion();
  const posts = new PostList(ctx, membership, (text) => {
    moderationNotice.textContent = text;
  });
  const postsAlert = alertRegion();
  const moreStatus = statusRegion();
  const more = h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: t('community.topic.more_posts'),
    hidden: true,
  });
  /** The posts shown, oldest first: every page loaded so far. */
  let shownPosts = [];
  let loadingMore = false;

  const showPosts = (list, morePosts) => {
    shownPosts = list;
    posts.show(list);
    more.hidden = !morePosts;
  };
  showPosts(topic.posts ?? [], Boolean(topic.more_posts));

  // Loads again every page shown, from the first, so that new replies and
  // moderators' decisions appear wherever they are. A post keeps its
  // offset, because the server lists posts oldest first and deletes them
  // only with their topic. Posts appended while this ran stay after the
  // posts loaded here.
  async function reload() {
    const shownCount = shownPosts.length;
    const fresh = [];
    let morePosts = false;
    try {
      do {
        const page = await fetchTopic(topicId, fresh.length);
        if (ctx.signal.aborted) return;
        const pagePosts = page.posts ?? [];
        fresh.push(...pagePosts);
        morePosts = Boolean(page.more_posts) && pagePosts.length > 0;
      } while (morePosts && fresh.length < shownCount);
    } catch (error) {
      if (!ctx.signal.aborted) postsAlert.textContent = describeError(error);
      return;
    }
    postsAlert.textContent = '';
    const freshIds = new Set(fresh.map((post) => post.id));
    const keptPosts = shownPosts.filter((post) => !freshIds.has(post.id));
    // When posts were appended meanwhile, the button keeps the state that their page gave it.
    showPosts([...fresh, ...keptPosts], keptPosts.length > 0 ? !more.hidden : morePosts);
  }

  async function loadMorePosts() {
    if (loadingMore) return;
    loadingMore = true;
    // aria-disabled rather than disabled, which would take the focus from the button.
    more.setAttribute('aria-disabled', 'true');
    moreStatus.textContent = t('app.loading');
    try {
      const page = await fetchTopic(topicId, shownPosts.length);
      if (ctx.signal.aborted) return;
      postsAlert.textContent = '';
      const pagePosts = page.posts ?? [];
      const morePosts = Boolean(page.more_posts) && pagePosts.length > 0;
      const shownIds = new Set(shownPosts.map((post) => post.id));
      const added = pagePosts.filter((post) => !shownIds.has(post.id));
      showPosts([...shownPosts, ...added], morePosts);
      if (added.length > 0) {
        moreStatus.textContent = '';
        posts.focus(added[0].id);
      } else if (!morePosts) {
        // The last page set `more_posts`, but this one is empty. The button
        // is gone, so focus goes to the status that explains why.
        moreStatus.textContent = t('community.topic.no_more_posts');
        focusElement(moreStatus);
      } else {
        moreStatus.textContent = '';
      }
    } catch (error) {
      if (!ctx.signal.aborted) {
        moreStatus.textContent = '';
        postsAlert.textContent = describeError(error);
      }
    } finally {
      loadingMore = false;
      more.removeAttribute('aria-disabled');
    }
  }
  more.addEventListener('click', loadMorePosts);

  const replyHeading = h('h2', {
    id: 'community-reply-heading',
    text: t('community.reply.heading'),
  });
  const block = postingBlock(membership, group);
  panel.append(
    h(
      'section',
      { class: 'community__section', attrs: { 'aria-labelledby': 'posts-heading' } },
      h('h2', { id: 'posts-heading', class: 'visually-hidden', text: t('community.topic.posts') }),
      moderationNotice,
      postsAlert,
      posts.list,
      moreStatus,
      h('div', { class: 'actions' }, more),
    ),
    h(
      'section',
      { class: 'community__section', attrs: { 'aria-labelledby': replyHeading.id } },
      replyHeading,
      block ?? replyForm(ctx, topicId, membership, reload),
    ),
  );

  const aboutThisTopic = (detail) => !detail.topicId || detail.topicId === topicId;
  followGroup(ctx, topic.group_id, reload, aboutThisTopic);
}
