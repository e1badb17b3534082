// The images of a post being written, in the form that starts a topic and
// in the reply form. Choosing a file uploads it at once, with a progress
// bar, and the picker follows its processing. A ready image shows as a
// preview with a field for its description, the alt text that people who
// cannot see the image read. Each image has a Remove button, which
// deletes it on the server. Images still in the picker when the page is
// left are deleted too, because no post shows them.

import { deleteImage, imageUrl } from '../community-api.js';
import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import {
  ACCEPTED_IMAGE_TYPES,
  imageFailureText,
  MAX_IMAGES_PER_POST,
  uploadAndProcess,
  uploadErrorText,
} from './community-images.js';
import { charCount, contextButton, SHORT_TEXT_MAX_CHARS } from './community-parts.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import { clearFieldError, field, fieldGroup, showFieldError } from './fields.js';

/**
 * One chosen file: its list item, its state (`uploading`, `processing`,
 * `ready` or `failed`) and, once the server has stored it, its image id.
 */
class Entry {
  constructor(picker, file, number) {
    this.picker = picker;
    this.name = file.name || t('community.image.unnamed');
    this.state = 'uploading';
    this.imageId = null;
    this.controller = new AbortController();

    const id = `${picker.id}-image-${number}`;
    this.stateText = h('p', { class: 'community-image-entry__state' });
    this.progress = h('progress', {
      class: 'case-media__progress',
      max: 100,
      value: 0,
      attrs: { 'aria-label': t('community.image.progress_label', { name: this.name }) },
    });
    this.preview = h('div', { class: 'community-image-entry__preview', hidden: true });
    this.description = field({
      id: `${id}-description`,
      name: 'description',
      label: t('community.image.description_label', { name: this.name }),
      hint: t('community.image.description_hint', { max: SHORT_TEXT_MAX_CHARS }),
      attrs: { autocomplete: 'off' },
    });
    this.description.wrapper.hidden = true;
    this.removeButton = contextButton(
      'button button--secondary button--small',
      t('community.image.remove'),
      this.name,
      () => picker.remove(this),
    );
    this.element = h(
      'li',
      { class: 'community-image-entry' },
      this.preview,
      h(
        'div',
        { class: 'community-image-entry__details' },
        h('p', { class: 'community-image-entry__name', text: this.name }),
        this.stateText,
        this.progress,
        this.description.wrapper,
        h('div', { class: 'actions' }, this.removeButton),
      ),
    );
    this.showProgress(0);
  }

  showProgress(fraction) {
    const percent = Math.round(fraction * 100);
    this.progress.value = percent;
    this.stateText.textContent = t('attachment.uploading', { percent });
  }

  showProcessing(image) {
    this.state = 'processing';
    this.imageId = image.id;
    this.progress.hidden = true;
    this.stateText.textContent = t('community.image.processing');
  }

  showReady(image) {
    this.state = 'ready';
    this.imageId = image.id;
    this.progress.hidden = true;
    this.stateText.textContent = t('community.image.ready');
    this.preview.replaceChildren(
      h('img', {
        src: imageUrl(image.id, 'thumbnail'),
        alt: t('community.image.preview_alt', { name: this.name }),
        decoding: 'async',
      }),
    );
    this.preview.hidden = false;
    this.description.wrapper.hidden = false;
  }

  showFailed(text) {
    this.state = 'failed';
    this.progress.hidden = true;
    this.element.classList.add('community-image-entry--failed');
    this.stateText.textContent = t('community.image.not_added', { reason: text });
  }

  /** Returns the trimmed description, or null after showing why it cannot be sent. */
  checkedDescription() {
    clearFieldError(this.description);
    const value = this.description.input.value.trim();
    if (charCount(value) > SHORT_TEXT_MAX_CHARS) {
      showFieldError(
        this.description,
        t('community.image.description_invalid', { max: SHORT_TEXT_MAX_CHARS }),
      );
      return null;
    }
    return value;
  }
}

/**
 * The picker of a post form. Its methods:
 * - `check()` shows what stops the images from being posted, and returns
 *   whether they can be posted;
 * - `values()` returns the images as the server takes them;
 * - `showServerError(error)` shows a rejection of the images, and returns
 *   whether the error was about them;
 * - `posted()` empties the picker once a post shows its images.
 */
export class ImagePicker {
  /** `id` is the base of the element ids, unique on the page, and `membership` is mine. */
  constructor(ctx, { id, membership }) {
    this.ctx = ctx;
    this.id = id;
    this.membership = membership;
    this.entries = [];
    this.count = 0;

    this.group = fieldGroup({
      id,
      legend: t('community.image.legend'),
      hint: t('community.image.hint', { max: MAX_IMAGES_PER_POST }),
    });
    this.notice = statusRegion();
    this.alert = alertRegion();
    this.list = h('ul', {
      class: 'community-image-entries',
      hidden: true,
      attrs: { 'aria-label': t('community.image.entries_label') },
    });
    this.file = field({
      id: `${id}-file`,
      name: 'image',
      type: 'file',
      label: t('community.image.file_label'),
      attrs: { accept: ACCEPTED_IMAGE_TYPES, multiple: true },
    });
    this.full = h('p', {
      class: 'field__hint',
      hidden: true,
      text: t('community.image.full', { max: MAX_IMAGES_PER_POST }),
    });
    this.group.wrapper.append(this.alert, this.list, this.file.wrapper, this.full, this.notice);
    this.element = this.group.wrapper;

    this.file.input.addEventListener('change', () => this.#chosen());
    // Images that no post shows count against the member's limit on the server.
    ctx.onCleanup(() => {
      for (const entry of this.entries) this.#discard(entry);
    });
  }

  #update() {
    this.list.hidden = this.entries.length === 0;
    const full = this.entries.length >= MAX_IMAGES_PER_POST;
    this.file.wrapper.hidden = full;
    this.full.hidden = !full;
  }

  #chosen() {
    const files = [...(this.file.input.files ?? [])];
    this.file.input.value = '';
    this.group.clearError();
    this.alert.textContent = '';
    const room = MAX_IMAGES_PER_POST - this.entries.length;
    if (files.length > room) {
      this.alert.textContent = t('community.image.too_many', { max: MAX_IMAGES_PER_POST });
    }
    for (const file of files.slice(0, Math.max(0, room))) this.#add(file);
    this.#update();
  }

  async #add(file) {
    this.count += 1;
    const entry = new Entry(this, file, this.count);
    this.entries.push(entry);
    this.list.append(entry.element);
    if (file.size === 0) {
      entry.showFailed(t('error.media.empty'));
      return;
    }
    const stop = () => entry.controller.abort();
    this.ctx.signal.addEventListener('abort', stop, { once: true });
    let image;
    try {
      image = await uploadAndProcess(file, {
        signal: entry.controller.signal,
        onProgress: (fraction) => entry.showProgress(fraction),
        onUploaded: (uploaded) => entry.showProcessing(uploaded),
      });
    } catch (error) {
      if (entry.controller.signal.aborted) return;
      const reason = uploadErrorText(error, this.membership);
      entry.showFailed(reason);
      this.alert.textContent = t('community.image.not_added_named', { name: entry.name, reason });
      return;
    } finally {
      this.ctx.signal.removeEventListener('abort', stop);
    }
    if (image.status === 'ready') {
      entry.showReady(image);
      this.notice.textContent = t('community.image.ready_named', { name: entry.name });
    } else {
      const reason = imageFailureText(image.failure);
      entry.showFailed(reason);
      this.alert.textContent = t('community.image.not_added_named', { name: entry.name, reason });
    }
  }

  /** Deletes the image of `entry` on the server, if it has one, without waiting. */
  #discard(entry) {
    entry.controller.abort();
    if (entry.imageId === null) return;
    deleteImage(entry.imageId).catch((error) => {
      if (error.code !== 'resource.not_found') {
        console.warn(`deleting unposted image ${entry.imageId} failed`, error);
      }
    });
  }

  /** Removes `entry` from the picker and deletes its image, then focuses the file input. */
  async remove(entry) {
    this.notice.textContent = '';
    this.alert.textContent = '';
    entry.controller.abort();
    if (entry.imageId !== null) {
      try {
        await deleteImage(entry.imageId);
      } catch (error) {
        if (this.ctx.signal.aborted) return;
        // An image that is gone already counts as removed.
        if (error.code !== 'resource.not_found') {
          this.alert.textContent = describeError(error);
          focusElement(this.alert);
          return;
        }
      }
    }
    if (this.ctx.signal.aborted) return;
    this.entries = this.entries.filter((each) => each !== entry);
    entry.element.remove();
    this.#update();
    this.notice.textContent = t('community.image.removed', { name: entry.name });
    focusElement(this.file.input);
  }

  check() {
    this.group.clearError();
    const failed = this.entries.find((entry) => entry.state === 'failed');
    const waiting = this.entries.find((entry) => entry.state !== 'ready');
    if (failed || waiting) {
      this.group.showError(t(failed ? 'community.image.remove_failed' : 'community.image.wait'));
      // Focus goes to the image in the way, whose Remove button clears it.
      focusElement((failed ?? waiting).removeButton);
      return false;
    }
    let first = null;
    for (const entry of this.entries) {
      if (entry.checkedDescription() === null) first ??= entry;
    }
    if (first) {
      focusElement(first.description.input);
      return false;
    }
    return true;
  }

  values() {
    return this.entries.map((entry) => ({
      id: entry.imageId,
      description: entry.description.input.value.trim(),
    }));
  }

  showServerError(error) {
    if (error.code !== 'request.invalid_field' || this.entries.length === 0) return false;
    if (error.field === 'images.description') {
      this.group.showError(t('community.image.description_invalid', { max: SHORT_TEXT_MAX_CHARS }));
      focusElement(this.entries[0].description.input);
    } else if (error.field === 'images') {
      this.group.showError(t('community.image.rejected'));
      focusElement(this.entries[0].removeButton);
    } else {
      return false;
    }
    return true;
  }

  posted() {
    for (const entry of this.entries) entry.element.remove();
    this.entries = [];
    this.notice.textContent = '';
    this.alert.textContent = '';
    this.group.clearError();
    this.#update();
  }
}
