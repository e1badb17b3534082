// Images in the community: a post's images as thumbnails that open the
// whole picture, and the upload of one image followed through its
// processing, which the post forms and the profile picture share. The
// server re-encodes every image without its metadata (location included)
// before anyone but its owner can see it.

import { NETWORK_ERROR } from '../api.js';
import { fetchImage, imageUrl, uploadImage } from '../community-api.js';
import { h } from '../dom.js';
import { hasMessage, t } from '../i18n.js';
import { describeCommunityError } from './community-parts.js';

/** The maximum number of images one post shows, as the server enforces it. */
export const MAX_IMAGES_PER_POST = 4;

/** The server decides an image's kind by its bytes, so this list only narrows the file picker. */
export const ACCEPTED_IMAGE_TYPES = 'image/jpeg,image/png,image/heic,.heic';

/** How often an image is read again while the server processes it. */
const POLL_INTERVAL_MS = 1_000;

/** Failure codes whose text in the `error.` part of the catalogue fits an image too. */
const SHARED_FAILURE_CODES = new Set([
  'media.empty',
  'media.invalid',
  'media.too_many_pixels',
  'media.over_memory_limit',
]);

/** Waits `ms` milliseconds, and rejects at once when `signal` aborts. */
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function inProgress(image) {
  return image.status === 'uploading' || image.status === 'processing';
}

/** Returns the rendition of `image` with `role`, or null. */
function rendition(image, role) {
  return (image.renditions ?? []).find((each) => each.role === role) ?? null;
}

/** Returns the text that explains why an image failed, from its `failure` code. */
export function imageFailureText(code) {
  if (code === 'media.unsupported' || code === 'media.not_allowed') {
    return t('community.image.failure.wrong_kind');
  }
  if (code && hasMessage(`community.image.failure.${code}`)) {
    return t(`community.image.failure.${code}`);
  }
  if (SHARED_FAILURE_CODES.has(code)) return t(`error.${code}`);
  return t('community.image.failure.unknown');
}

/** Returns the text that explains why the server rejected the upload of an image. */
export function uploadErrorText(error, membership) {
  if (error.code === 'request.invalid_field' && error.field === 'body') {
    return t('community.image.body_invalid');
  }
  if (error.code === 'resource.conflict') return t('community.image.too_many_unused');
  if (error.code === 'server.busy') return t('community.image.busy');
  return describeCommunityError(error, membership);
}

/**
 * Uploads `file` as a community image and reads it again until the server
 * has processed it. `onProgress(fraction)` follows the upload, and
 * `onUploaded(image)` runs once the server has stored the file. Returns the
 * image's last view, `ready` or `failed`. Rejects with the ApiError of a
 * rejected upload, or with the reason of `signal` when it aborts.
 */
export async function uploadAndProcess(file, { signal, onProgress, onUploaded }) {
  let image = await uploadImage(file, { signal, onProgress });
  onUploaded?.(image);
  while (inProgress(image)) {
    await sleep(POLL_INTERVAL_MS, signal);
    try {
      image = await fetchImage(image.id);
    } catch (error) {
      // A lost connection or a server error can pass, so the reading goes on.
      if (error.code !== NETWORK_ERROR && !(error.status >= 500)) throw error;
    }
  }
  return image;
}

/**
 * Creates the thumbnail of a ready image, which opens the whole picture in
 * a new tab. `position` is `{ position, count }` among the post's images,
 * for the alt text of an image without a description.
 */
function imageItem(image, position) {
  const thumbnail = rendition(image, 'thumbnail') ?? rendition(image, 'main');
  const full = rendition(image, 'main') ?? thumbnail;
  const description = image.description?.trim();
  const picture = h('img', {
    src: imageUrl(image.id, thumbnail.role),
    alt: description || t('community.image.no_description', position),
    width: thumbnail.width ?? undefined,
    height: thumbnail.height ?? undefined,
    decoding: 'async',
  });
  return h(
    'li',
    { class: 'community-post__image', dataset: { imageId: image.id } },
    h(
      'a',
      {
        class: 'community-post__image-link',
        href: imageUrl(image.id, full.role),
        target: '_blank',
        rel: 'noopener',
      },
      picture,
      h('span', { class: 'visually-hidden', text: ` ${t('community.image.new_tab')}` }),
    ),
  );
}

/** Creates the list of a post's ready images, or returns null when it shows none. */
export function postImages(post) {
  const readyImages = (post.images ?? []).filter(
    (image) =>
      image.status === 'ready' &&
      (rendition(image, 'thumbnail') !== null || rendition(image, 'main') !== null),
  );
  if (readyImages.length === 0) return null;
  const count = readyImages.length;
  return h(
    'ul',
    { class: 'community-post__images', attrs: { 'aria-label': t('community.image.list_label') } },
    readyImages.map((image, index) => imageItem(image, { position: index + 1, count })),
  );
}
