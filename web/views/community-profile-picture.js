// The picture of "My community profile": a preview of the picture, a file
// input that uploads a new one and follows its processing, a Remove
// button, and the same "Visible to members" checkbox as the other fields.
// A change takes effect when the profile is saved. A picture uploaded and
// then replaced, removed or left unsaved is deleted, because nothing else
// can show it.

import { deleteImage, imageUrl } from '../community-api.js';
import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import {
  ACCEPTED_IMAGE_TYPES,
  imageFailureText,
  uploadAndProcess,
  uploadErrorText,
} from './community-images.js';
import { statusRegion } from './common.js';
import { clearFieldError, field, fieldGroup, showFieldError } from './fields.js';

const ID = 'community-profile-picture';

/** Deletes an image that no profile or post shows, without waiting. */
function discard(imageId) {
  deleteImage(imageId).catch((error) => {
    if (error.code !== 'resource.not_found') {
      console.warn(`deleting unsaved picture ${imageId} failed`, error);
    }
  });
}

/**
 * Creates the picture's controls. Returns `{ wrapper, fill(entry),
 * entry(), check(), showError() }`, where an entry is `{ value, visible }`
 * with the image id as the value, as the server takes and returns it.
 * `check()` shows why the picture cannot be saved yet and returns whether
 * it can, and `showError()` shows that the server rejected the picture.
 */
export function pictureField(ctx, membership) {
  const group = fieldGroup({
    id: ID,
    legend: t('community.profile.field.picture'),
    hint: t('community.profile.hint.picture'),
    className: 'field group community-profile__field',
  });
  const preview = h('div', { class: 'community-picture__preview' });
  const state = statusRegion();
  const progress = h('progress', {
    class: 'case-media__progress',
    max: 100,
    value: 0,
    hidden: true,
    attrs: { 'aria-label': t('community.profile.picture_progress') },
  });
  const file = field({
    id: `${ID}-file`,
    name: 'picture',
    type: 'file',
    label: t('community.profile.picture_file'),
    attrs: { accept: ACCEPTED_IMAGE_TYPES },
  });
  const remove = h('button', {
    type: 'button',
    class: 'button button--secondary button--small',
    text: t('community.profile.picture_remove'),
    on: { click: () => removePicture() },
  });
  const visible = h('input', { type: 'checkbox', id: `${ID}-visible`, class: 'choice__input' });
  group.wrapper.append(
    preview,
    state,
    progress,
    file.wrapper,
    h('div', { class: 'actions' }, remove),
    h(
      'div',
      { class: 'choice' },
      visible,
      h('label', {
        htmlFor: visible.id,
        class: 'choice__label',
        text: t('community.profile.visible'),
      }),
    ),
  );

  /** The picture as the server stored it, the one the form will send, and one uploaded here. */
  let savedId = null;
  let currentId = null;
  let unsavedId = null;
  let uploading = null;

  function showPreview() {
    remove.hidden = currentId === null;
    if (currentId === null) {
      preview.replaceChildren(
        h('p', { class: 'field__hint', text: t('community.profile.picture_none') }),
      );
      return;
    }
    preview.replaceChildren(
      h('img', {
        src: imageUrl(currentId, 'thumbnail'),
        alt: t('community.profile.picture_alt'),
        decoding: 'async',
      }),
    );
  }

  /** Makes `imageId` the picture to send, deleting an unsaved upload that it replaces. */
  function choose(imageId) {
    if (unsavedId !== null && unsavedId !== imageId) discard(unsavedId);
    unsavedId = imageId !== savedId ? imageId : null;
    currentId = imageId;
    showPreview();
  }

  function showProgress(fraction) {
    const percent = Math.round(fraction * 100);
    progress.value = percent;
    state.textContent = t('attachment.uploading', { percent });
  }

  async function upload(chosen) {
    uploading?.abort();
    const controller = new AbortController();
    uploading = controller;
    const stop = () => controller.abort();
    ctx.signal.addEventListener('abort', stop, { once: true });
    clearFieldError(file);
    group.clearError();
    progress.hidden = false;
    showProgress(0);

    let image;
    let uploadedId = null;
    try {
      image = await uploadAndProcess(chosen, {
        signal: controller.signal,
        onProgress: showProgress,
        onUploaded: (uploaded) => {
          uploadedId = uploaded.id;
          progress.hidden = true;
          state.textContent = t('community.image.processing');
        },
      });
    } catch (error) {
      if (controller.signal.aborted) {
        // Replaced, removed or left while the server processed it.
        if (uploadedId !== null) discard(uploadedId);
        return;
      }
      progress.hidden = true;
      state.textContent = '';
      showRejection(uploadErrorText(error, membership));
      return;
    } finally {
      ctx.signal.removeEventListener('abort', stop);
      if (uploading === controller) uploading = null;
    }

    progress.hidden = true;
    if (image.status !== 'ready') {
      discard(image.id);
      state.textContent = '';
      showRejection(imageFailureText(image.failure));
      return;
    }
    choose(image.id);
    state.textContent = t('community.profile.picture_ready');
  }

  function showRejection(reason) {
    showFieldError(file, t('community.profile.picture_not_added', { reason }));
    focusElement(file.input);
  }

  function removePicture() {
    uploading?.abort();
    progress.hidden = true;
    choose(null);
    state.textContent = t('community.profile.picture_removed');
    focusElement(file.input);
  }

  file.input.addEventListener('change', () => {
    const chosen = file.input.files?.[0];
    file.input.value = '';
    if (!chosen) return;
    if (chosen.size === 0) {
      showRejection(t('error.media.empty'));
      return;
    }
    upload(chosen);
  });
  ctx.onCleanup(() => {
    uploading?.abort();
    if (unsavedId !== null) discard(unsavedId);
  });

  return {
    wrapper: group.wrapper,
    /** Shows the picture of a profile the server returned, which is now the saved one. */
    fill(entry) {
      savedId = entry?.value ?? null;
      if (unsavedId !== null && unsavedId !== savedId) discard(unsavedId);
      unsavedId = null;
      currentId = savedId;
      visible.checked = Boolean(entry?.visible);
      state.textContent = '';
      clearFieldError(file);
      group.clearError();
      showPreview();
    },
    entry() {
      return { value: currentId, visible: visible.checked };
    },
    check() {
      group.clearError();
      if (uploading === null) return true;
      group.showError(t('community.profile.picture_wait'));
      focusElement(file.input);
      return false;
    },
    showError() {
      group.showError(t('community.profile.picture_invalid'));
      focusElement(file.input);
    },
  };
}
