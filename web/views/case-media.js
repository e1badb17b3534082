// The Photos and video area of a case page. Everyone who may read the case
// sees its ready photos as thumbnails that open the full picture, and its
// video in a player. Those who edit the profile also see items still being
// uploaded or processed and failed ones, add photos and a video, and
// remove any item. The server processes an item in the background, so the
// area reads the case's list of items again every couple of seconds while
// any item is in progress; that list, unlike the case, is read without
// recording a view of the profile. An anonymous profile hides its photos
// and video with its names.

import {
  addCaseMedia,
  caseMediaUrl,
  fetchCaseMedia,
  NETWORK_ERROR,
  removeCaseMedia,
} from '../api.js';
import { focusElement, h } from '../dom.js';
import { formatTime } from '../format.js';
import { hasMessage, t } from '../i18n.js';
import { confirmedAction } from './call-tiles.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import { clearFieldError, field, showFieldError } from './fields.js';

/** The maximum number of items in each slot of a profile, as the server enforces them. */
const SLOT_LIMITS = {
  child: { photo: 6, video: 1 },
  family: { photo: 3, video: 0 },
};

/** The server decides a file's kind by its bytes, so these lists only narrow the file picker. */
const ACCEPTED_TYPES = {
  photo: 'image/jpeg,image/png,image/heic,.heic',
  video: 'video/*',
};

/** How often the case is read again while an item is uploading or processing. */
const POLL_INTERVAL_MS = 2_000;

/** Failure codes whose text in the `error.` part of the catalogue fits a profile too. */
const SHARED_FAILURE_CODES = new Set([
  'media.empty',
  'media.invalid',
  'media.too_many_pixels',
  'media.too_long',
  'media.over_memory_limit',
]);

function inProgress(status) {
  return status === 'uploading' || status === 'processing';
}

function rendition(item, role) {
  return (item.renditions ?? []).find((each) => each.role === role) ?? null;
}

/** Returns whether an item can be shown: ready, with the renditions its player needs. */
function showable(item) {
  if (item.status !== 'ready') return false;
  if (item.slot === 'video') return rendition(item, 'main') !== null;
  return rendition(item, 'thumbnail') !== null || rendition(item, 'main') !== null;
}

/** Returns the text that explains why an item of `slot` failed, from its `failure` code. */
export function failureText(code, slot) {
  if (code === 'media.unsupported' || code === 'media.not_allowed') {
    return t(`case_media.failure.wrong_kind.${slot}`);
  }
  if (code && hasMessage(`case_media.failure.${code}`)) return t(`case_media.failure.${code}`);
  if (SHARED_FAILURE_CODES.has(code)) return t(`error.${code}`);
  return t('case_media.failure.unknown');
}

/**
 * Replaces the children of `list` with `elements` unless they are already
 * there in that order. Moving a media element out of the document pauses
 * it, so an unchanged list is left alone. Returns whether focus was inside
 * a child that left the list.
 */
function reconcile(list, elements) {
  const current = [...list.children];
  if (current.length === elements.length && current.every((child, i) => child === elements[i])) {
    return false;
  }
  const remaining = new Set(elements);
  const lostFocus = current.some(
    (child) => !remaining.has(child) && child.contains(document.activeElement),
  );
  list.replaceChildren(...elements);
  return lostFocus;
}

/**
 * Creates the thumbnail of a ready photo that links to the full picture,
 * with its Remove control when `removeControl` is given. `position` is
 * `{ position, count }` among the ready photos, and the returned
 * `setPosition` changes it.
 */
function photoView(caseId, item, position, removeControl) {
  const main = rendition(item, 'main');
  const thumbnail = rendition(item, 'thumbnail') ?? main;
  const image = h('img', {
    src: caseMediaUrl(caseId, item.id, thumbnail.role),
    width: thumbnail.width ?? undefined,
    height: thumbnail.height ?? undefined,
    decoding: 'async',
  });
  // The full picture opens in a new tab, so the case page stays open.
  const link = h(
    'a',
    {
      class: 'case-media__photo-link',
      href: caseMediaUrl(caseId, item.id, main ? 'main' : thumbnail.role),
      target: '_blank',
      rel: 'noopener',
    },
    image,
  );
  const element = h('li', { class: 'case-media__photo', dataset: { mediaId: item.id } }, link);
  let context = null;
  if (removeControl) {
    const control = removeControl(item, t('case_media.context.photo', position));
    // The hidden end of the Remove button's name, which confirmedAction creates.
    context = control.element.querySelector('.visually-hidden');
    element.append(control.element);
  }
  const setPosition = (next) => {
    image.alt = t('case_media.photo_alt', next);
    if (context) context.textContent = ` ${t('case_media.context.photo', next)}`;
  };
  setPosition(position);
  return { element, setPosition };
}

/** Creates the player of a ready video, with its Remove control when `removeControl` is given. */
function videoView(caseId, item, removeControl) {
  // NOTE: the server makes no captions or transcripts of uploaded video,
  // so the player offers none.
  const main = rendition(item, 'main');
  const poster = rendition(item, 'poster');
  const video = h('video', {
    class: 'case-media__video',
    src: caseMediaUrl(caseId, item.id, 'main'),
    controls: true,
    preload: 'metadata',
    attrs: { 'aria-label': t('case_media.video_label'), playsinline: true },
  });
  if (poster) video.poster = caseMediaUrl(caseId, item.id, 'poster');
  if (main?.width && main?.height) {
    video.width = main.width;
    video.height = main.height;
  }
  const element = h('figure', { class: 'case-media__figure', dataset: { mediaId: item.id } }, video);
  if (removeControl) element.append(removeControl(item, t('case_media.context.video')).element);
  return { element };
}

/**
 * Creates the entry of an item in progress or failed, for those who edit
 * the profile. `update(item)` shows the item's current state.
 */
function pendingView(item, removeControl) {
  const time = formatTime(item.created_at);
  const state = h('span', { class: 'case-media__state' });
  const element = h(
    'li',
    { class: 'case-media__item', dataset: { mediaId: item.id } },
    h('span', { class: 'case-media__name', text: t(`case_media.pending_name.${item.slot}`, { time }) }),
    state,
    removeControl(item, t(`case_media.context.pending.${item.slot}`, { time })).element,
  );
  let shownStatus = null;
  const update = (current) => {
    if (shownStatus === current.status) return;
    shownStatus = current.status;
    const failed = current.status === 'failed';
    element.classList.toggle('case-media__item--failed', failed);
    state.textContent = failed
      ? t('case_media.state.failed', { reason: failureText(current.failure, current.slot) })
      : t(`case_media.state.${current.status}`);
  };
  update(item);
  return { element, update };
}

/** The area of a case whose names the reader may see: its list, polling and removals. */
class MediaArea {
  constructor(ctx, loaded) {
    this.ctx = ctx;
    this.caseId = loaded.id;
    this.editor = Boolean(loaded.may_edit);
    this.limits = SLOT_LIMITS[loaded.kind === 'family' ? 'family' : 'child'];
    this.items = loaded.media ?? [];
    /** Views of ready items and of items in progress or failed, by item id. */
    this.readyViews = new Map();
    this.pendingViews = new Map();
    /** The slots with an upload from this page in flight. */
    this.uploading = new Set();
    this.forms = [];
    this.pollTimer = null;
    this.refreshing = null;
    this.refreshAgain = false;
    /** The alert text of the last failed reading of the case, cleared by the next that works. */
    this.readError = null;

    const headingId = 'case-media-heading';
    this.heading = h('h2', { id: headingId, text: t('case_media.title') });
    this.notice = statusRegion();
    this.alert = alertRegion();
    this.empty = h('p', {
      class: 'empty',
      text: t(this.editor ? 'case_media.empty_own' : 'case_media.empty'),
    });
    this.photoList = h('ul', {
      class: 'case-media__photos',
      attrs: { 'aria-label': t('case_media.photos_label') },
    });
    this.videoBox = h('div', { class: 'case-media__videos' });
    this.pendingList = h('ul', {
      class: 'case-media__pending',
      attrs: { 'aria-label': t('case_media.pending_label') },
    });
    this.element = h(
      'section',
      { class: 'ff-section case-media', attrs: { 'aria-labelledby': headingId } },
      this.heading,
      this.editor ? h('p', { class: 'field__hint', text: t('case_media.editor_hint') }) : null,
      this.notice,
      this.alert,
      this.empty,
      this.photoList,
      this.videoBox,
    );
    if (this.editor) {
      this.element.append(this.pendingList);
      for (const slot of ['photo', 'video']) {
        if (this.limits[slot] === 0) continue;
        const form = addForm(this, slot);
        this.forms.push(form);
        this.element.append(form.element);
      }
    }
    ctx.signal.addEventListener('abort', () => clearTimeout(this.pollTimer), { once: true });
    this.render();
    this.schedulePoll();
  }

  get aborted() {
    return this.ctx.signal.aborted;
  }

  /** Returns the number of items of `slot` that take a place in the profile. */
  heldCount(slot) {
    return this.items.filter((item) => item.slot === slot && item.status !== 'failed').length;
  }

  /** Creates the Remove button of `item`, which asks for confirmation, for those who edit. */
  removeControl(item, context) {
    return confirmedAction({
      id: `case-media-remove-${item.id}`,
      label: t('case_media.remove'),
      context,
      title: t(`case_media.remove_title.${item.slot}`),
      body: t('case_media.remove_body'),
      confirmLabel: t(`case_media.remove_confirm.${item.slot}`),
      onConfirm: () => this.remove(item),
    });
  }

  /** Returns the view of `item` kept in `views`, creating it with `create` the first time. */
  static viewOf(views, item, create) {
    let view = views.get(item.id);
    if (!view) {
      view = create();
      views.set(item.id, view);
    }
    return view;
  }

  /** Forgets the views in `views` of items not among `shown`. */
  static forgetOthers(views, shown) {
    const ids = new Set(shown.map((item) => item.id));
    for (const id of [...views.keys()]) if (!ids.has(id)) views.delete(id);
  }

  /** Shows `items`, keeping the elements of items already shown so players keep playing. */
  render() {
    const remover = this.editor ? (item, context) => this.removeControl(item, context) : null;
    const ready = this.items.filter(showable);
    const photos = ready.filter((item) => item.slot === 'photo');
    const videos = ready.filter((item) => item.slot === 'video');
    const pending = this.editor ? this.items.filter((item) => !showable(item)) : [];

    const photoElements = photos.map((item, index) => {
      const position = { position: index + 1, count: photos.length };
      const view = MediaArea.viewOf(this.readyViews, item, () =>
        photoView(this.caseId, item, position, remover),
      );
      view.setPosition(position);
      return view.element;
    });
    const videoElements = videos.map(
      (item) =>
        MediaArea.viewOf(this.readyViews, item, () => videoView(this.caseId, item, remover))
          .element,
    );
    const pendingElements = pending.map((item) => {
      const view = MediaArea.viewOf(this.pendingViews, item, () => pendingView(item, remover));
      view.update(item);
      return view.element;
    });
    MediaArea.forgetOthers(this.readyViews, ready);
    MediaArea.forgetOthers(this.pendingViews, pending);

    let lostFocus = reconcile(this.photoList, photoElements);
    lostFocus = reconcile(this.videoBox, videoElements) || lostFocus;
    lostFocus = reconcile(this.pendingList, pendingElements) || lostFocus;
    this.photoList.hidden = photoElements.length === 0;
    this.videoBox.hidden = videoElements.length === 0;
    this.pendingList.hidden = pendingElements.length === 0;
    this.empty.hidden = ready.length + pending.length > 0;
    for (const form of this.forms) form.update();
    if (lostFocus) focusElement(this.heading);
  }

  /** Adds `item`, just uploaded from this page, and follows its processing. */
  addItem(item) {
    this.items = [...this.items.filter((each) => each.id !== item.id), item];
    this.render();
    this.schedulePoll();
  }

  /** Announces the items that were in progress in `previous` and are ready or failed in `current`. */
  announceChanges(previous, current) {
    const before = new Map(previous.map((item) => [item.id, item.status]));
    for (const item of current) {
      if (!inProgress(before.get(item.id))) continue;
      if (item.status === 'ready') {
        this.notice.textContent = t(`case_media.ready.${item.slot}`);
      } else if (item.status === 'failed') {
        this.alert.textContent = t(`case_media.not_added.${item.slot}`, {
          reason: failureText(item.failure, item.slot),
        });
      }
    }
  }

  schedulePoll() {
    clearTimeout(this.pollTimer);
    this.pollTimer = null;
    if (this.aborted || !this.items.some((item) => inProgress(item.status))) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      this.refresh();
    }, POLL_INTERVAL_MS);
  }

  /** Reads the case's items once and shows them. Returns whether polling continues. */
  async readOnce() {
    let updated;
    try {
      updated = await fetchCaseMedia(this.caseId);
    } catch (error) {
      if (this.aborted) return false;
      this.readError = describeError(error);
      if (this.alert.textContent !== this.readError) this.alert.textContent = this.readError;
      // A lost connection or a server error can pass, so the reading goes on.
      return error.code === NETWORK_ERROR || error.status >= 500;
    }
    if (this.aborted) return false;
    if (this.readError !== null && this.alert.textContent === this.readError) {
      this.alert.textContent = '';
    }
    this.readError = null;
    const current = Array.isArray(updated) ? updated : [];
    this.announceChanges(this.items, current);
    this.items = current;
    this.render();
    return true;
  }

  /**
   * Reads the case's items again and shows them. A call while a reading is
   * under way reads once more after it, and every caller waits for both.
   */
  refresh() {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    clearTimeout(this.pollTimer);
    this.pollTimer = null;
    this.refreshing = (async () => {
      let goOn = true;
      do {
        this.refreshAgain = false;
        goOn = await this.readOnce();
      } while (this.refreshAgain && goOn && !this.aborted);
      this.refreshing = null;
      if (goOn) this.schedulePoll();
    })();
    return this.refreshing;
  }

  async remove(item) {
    this.notice.textContent = '';
    this.alert.textContent = '';
    try {
      await removeCaseMedia(this.caseId, item.id);
    } catch (error) {
      if (this.aborted) return;
      // An item that is gone already, removed from another page, counts as removed.
      if (error.code !== 'resource.not_found') {
        this.alert.textContent = describeError(error);
        focusElement(this.alert);
        return;
      }
    }
    if (this.aborted) return;
    this.items = this.items.filter((each) => each.id !== item.id);
    this.render();
    this.notice.textContent = t(`case_media.removed.${item.slot}`);
    focusElement(this.heading);
  }

  /**
   * Returns the reason an upload that got 400 naming `body` was rejected.
   * The server records a rejected item as failed with its code, so reading
   * the case finds it among the items not in `knownIds`. Without one, the
   * reason names what the slot takes.
   */
  async rejectionReason(slot, knownIds) {
    await this.refresh();
    const rejected = this.items.find(
      (item) => item.slot === slot && item.status === 'failed' && !knownIds.has(item.id),
    );
    if (rejected?.failure) return failureText(rejected.failure, slot);
    return t(`case_media.body_invalid.${slot}`);
  }
}

/**
 * Creates the form that adds an item to `slot` of the profile `area`
 * shows: a file input, a progress bar while the file is sent, and the
 * errors of the upload. Returns `{ element, update() }`, `update` showing
 * whether the slot is full.
 */
function addForm(area, slot) {
  const { ctx } = area;
  const max = area.limits[slot];
  const id = `case-media-${slot}`;
  const control = field({
    id: `${id}-file`,
    name: slot,
    type: 'file',
    label: t(`case_media.file_label.${slot}`),
    hint: t(`case_media.file_hint.${slot}`, { max }),
    attrs: { accept: ACCEPTED_TYPES[slot] },
  });
  const progress = h('progress', {
    class: 'case-media__progress',
    max: 100,
    value: 0,
    attrs: { 'aria-label': t(`case_media.progress_label.${slot}`) },
  });
  const progressText = h('span', { class: 'case-media__state' });
  const progressRow = h('p', { class: 'case-media__upload', hidden: true }, progress, progressText);
  const full = h('p', {
    class: 'case-media__full',
    hidden: true,
    text: t(`case_media.full.${slot}`, { max }),
  });
  const submit = h('button', { type: 'submit', class: 'button', text: t(`case_media.add.${slot}`) });
  const actions = h('div', { class: 'actions' }, submit);
  const titleId = `${id}-title`;
  const form = h(
    'form',
    { class: 'form case-media__form', noValidate: true, attrs: { 'aria-labelledby': titleId } },
    h('h3', { id: titleId, text: t(`case_media.add.${slot}`) }),
    full,
    control.wrapper,
    progressRow,
    actions,
  );

  const update = () => {
    const busy = area.uploading.has(slot);
    const isFull = !busy && area.heldCount(slot) >= max;
    full.hidden = !isFull;
    control.wrapper.hidden = isFull;
    actions.hidden = isFull;
    control.input.disabled = busy;
    submit.disabled = busy;
  };

  const showProgress = (fraction) => {
    const percent = Math.round(fraction * 100);
    progress.value = percent;
    progressText.textContent = t('attachment.uploading', { percent });
  };

  const showRejection = (text) => {
    showFieldError(control, text);
    focusElement(control.input);
  };

  const showAlert = (text) => {
    area.alert.textContent = text;
    focusElement(area.alert);
  };

  const showFailure = async (error, knownIds) => {
    if (error.code === 'request.invalid_field' && error.field === 'body') {
      const reason = await area.rejectionReason(slot, knownIds);
      if (!area.aborted) showRejection(t(`case_media.not_added.${slot}`, { reason }));
    } else if (error.code === 'request.invalid_field' && error.field === 'slot') {
      showRejection(t(`case_media.slot_invalid.${slot}`));
    } else if (error.code === 'resource.conflict') {
      await area.refresh();
      if (!area.aborted) showAlert(t(`case_media.full.${slot}`, { max }));
    } else if (error.code === 'server.busy') {
      showAlert(t('case_media.busy'));
    } else {
      showAlert(describeError(error));
    }
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (area.uploading.has(slot)) return;
    area.notice.textContent = '';
    area.alert.textContent = '';
    clearFieldError(control);
    const file = control.input.files?.[0];
    if (!file) {
      showRejection(t(`case_media.file_missing.${slot}`));
      return;
    }
    if (file.size === 0) {
      showRejection(t(`case_media.not_added.${slot}`, { reason: t('error.media.empty') }));
      return;
    }

    const knownIds = new Set(area.items.map((item) => item.id));
    area.uploading.add(slot);
    update();
    showProgress(0);
    progressRow.hidden = false;
    let added = null;
    let failure = null;
    try {
      added = await addCaseMedia(area.caseId, slot, file, {
        onProgress: showProgress,
        signal: ctx.signal,
      });
    } catch (error) {
      failure = error;
    }
    if (area.aborted) return;
    area.uploading.delete(slot);
    progressRow.hidden = true;
    if (failure) {
      update();
      await showFailure(failure, knownIds);
      return;
    }

    control.input.value = '';
    area.addItem(added);
    area.notice.textContent = t(`case_media.added.${slot}`);
    // A full slot hides the button that had focus, so focus goes to the confirmation.
    if (actions.hidden) focusElement(area.notice);
  });

  return { element: form, update };
}

/**
 * Creates the Photos and video area of `loaded`, the case as the page read
 * it. Returns `{ element }`. While the page is open and an item is in
 * progress, the area reads the case's items again to follow them.
 */
export function mediaArea(ctx, loaded) {
  if (loaded.names_hidden) {
    return { element: h('p', { class: 'case-media__hidden', text: t('case_media.hidden') }) };
  }
  return { element: new MediaArea(ctx, loaded).element };
}
