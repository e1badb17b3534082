// Files attached to a message, as the message list shows them: a photo's
// thumbnail linking to the full picture, a player for audio and video, and
// a download link for documents. A file still being processed shows a
// progress bar that `file` frames move on, and its player replaces the bar
// once it is ready, without reloading the history.

import { fileUrl } from '../api.js';
import { h } from '../dom.js';
import { formatBytes } from '../format.js';
import { errorText, t } from '../i18n.js';

const IMAGE_KINDS = new Set(['jpeg', 'png', 'heic']);

function rendition(view, role) {
  return view.renditions.find((each) => each.role === role) ?? null;
}

/** Creates a progress bar named after the file, for a percentage from 0 to 100. */
export function progressBar(name) {
  return h('progress', {
    class: 'attachment__progress',
    max: 100,
    value: 0,
    attrs: { 'aria-label': t('attachment.progress_label', { name }) },
  });
}

/** Returns the text of a processing file's state, such as "Processing 63%". */
export function processingText(entry) {
  return t('attachment.processing', { percent: entry.progress ?? 0 });
}

// A link that saves the file: the main rendition for processed files, the
// original for documents.
function downloadLink(view) {
  const main = rendition(view, 'main');
  return h('a', {
    class: 'attachment__download',
    href: fileUrl(view.id, { download: true }),
    text: t('attachment.download', {
      name: view.name,
      size: formatBytes(main?.size ?? view.size),
    }),
  });
}

function photo(view) {
  const main = rendition(view, 'main');
  const thumbnail = rendition(view, 'thumbnail') ?? main;
  if (!main) return downloadLink(view);
  // The full picture opens in a new tab, so the conversation stays open.
  return h(
    'a',
    { class: 'attachment__photo', href: main.url, target: '_blank', rel: 'noopener' },
    h('img', {
      src: thumbnail.url,
      alt: t('attachment.photo_alt', { name: view.name }),
      width: thumbnail.width ?? undefined,
      height: thumbnail.height ?? undefined,
      decoding: 'async',
    }),
  );
}

// NOTE: the server makes no captions or transcripts of uploaded video and
// audio, so the players offer none.
function player(view, tag) {
  const main = rendition(view, 'main');
  if (!main) return downloadLink(view);
  const poster = rendition(view, 'poster');
  const media = h(tag, {
    class: `attachment__${tag}`,
    src: main.url,
    controls: true,
    preload: 'metadata',
    attrs: { 'aria-label': t(`attachment.${tag}_label`, { name: view.name }) },
  });
  if (tag === 'video') {
    if (poster) media.poster = poster.url;
    if (main.width && main.height) {
      media.width = main.width;
      media.height = main.height;
    }
    // iOS Safari would otherwise play only in full screen.
    media.setAttribute('playsinline', '');
  }
  return h(
    'figure',
    { class: 'attachment__figure' },
    media,
    h('figcaption', { class: 'attachment__caption' }, downloadLink(view)),
  );
}

function readyContent(view) {
  if (view.kind === 'video') return player(view, 'video');
  if (view.kind === 'audio') return player(view, 'audio');
  if (IMAGE_KINDS.has(view.kind)) return photo(view);
  return downloadLink(view);
}

/** One attached file, redrawn as its entry in the FileTracker changes. */
class AttachmentItem {
  constructor(entry) {
    this.element = h('li', { class: 'attachment', dataset: { fileId: entry.id } });
    /** What is drawn: 'loading', 'unavailable', 'processing', 'ready' or 'failed'. */
    this.displayed = null;
    this.progress = null;
    this.progressText = null;
    this.update(entry);
  }

  update(entry) {
    // A ready or failed file does not change again, and redrawing a
    // player would stop it.
    if (this.displayed === 'ready' || this.displayed === 'failed') return;
    const name = entry.view?.name ?? '';

    if (entry.status === 'ready' && entry.view?.status === 'ready') {
      this.#show('ready', readyContent(entry.view));
    } else if (entry.status === 'failed') {
      const reason = errorText(entry.failure ?? 'media.failed');
      this.#show(
        'failed',
        h('p', { class: 'attachment__failure', text: t('attachment.failed', { name, reason }) }),
      );
    } else if (entry.status === 'processing' || entry.status === 'uploading') {
      this.#showProcessing(name, entry);
    } else if (entry.loadError) {
      const reason = errorText(entry.loadError);
      this.#show(
        'unavailable',
        h('p', { class: 'attachment__failure', text: t('attachment.unavailable', { reason }) }),
      );
    } else if (this.displayed === null) {
      this.#show('loading', h('p', { class: 'attachment__state', text: t('app.loading') }));
    }
  }

  #showProcessing(name, entry) {
    if (this.displayed !== 'processing') {
      this.progress = progressBar(name);
      this.progressText = h('span', { class: 'attachment__state' });
      this.#show(
        'processing',
        h('span', { class: 'attachment__name', text: name }),
        this.progress,
        this.progressText,
      );
    }
    this.progress.value = entry.progress ?? 0;
    this.progressText.textContent = processingText(entry);
  }

  #show(displayed, ...children) {
    this.displayed = displayed;
    this.element.replaceChildren(...children);
  }
}

/** The files of one message. Call `update` with every FileTracker change. */
export class MessageAttachments {
  constructor(fileIds, files) {
    this.items = new Map();
    this.element = h('ul', {
      class: 'attachment-list',
      attrs: { 'aria-label': t('attachment.list_label') },
    });
    for (const fileId of fileIds) {
      if (this.items.has(fileId)) continue;
      const item = new AttachmentItem(files.track(fileId));
      this.items.set(fileId, item);
      this.element.append(item.element);
    }
  }

  update(entry) {
    this.items.get(entry.id)?.update(entry);
  }
}
