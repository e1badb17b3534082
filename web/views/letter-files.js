// The files of a letter the writer is still editing. Each chosen file is
// uploaded into the contact link with the resumable upload the composer
// uses, and shows its progress, first of the bytes sent and then of the
// server's processing. Once every byte is stored, the file joins the
// letter's attachments, which the editor saves with the text. The writer
// can remove a file before submitting. The picker offers only the file
// categories that the agreement lets the writer's side send, and a file
// the server rejects for the letter stays listed with the reason until
// it is removed.

import { fileUrl } from '../api.js';
import { h } from '../dom.js';
import { errorText, t } from '../i18n.js';
import { Upload } from '../upload.js';
import { processingText, progressBar } from './attachments.js';

/** The maximum number of files in one letter, the same as the server allows. */
export const MAX_LETTER_FILES = 10;

/** The categories of the agreement's `media`, in the order the hint lists them. */
const CATEGORIES = ['document', 'image', 'audio', 'video'];

// The types the file picker offers for each category. The server decides
// by the bytes, never by this list.
const PICKER_TYPES = {
  document: ['application/pdf'],
  image: ['image/jpeg', 'image/png', 'image/heic', 'image/heif', '.heic', '.heif'],
  audio: ['audio/*'],
  video: ['video/*'],
};

/**
 * One file of the letter: an upload of this page, or a file the letter
 * had when the page opened (`upload` null). `rejected` is set when the
 * server would not attach it to the letter.
 */
class LetterFile {
  constructor({ id = null, upload = null, files, position, onRemove }) {
    this.id = id ?? upload?.id ?? null;
    this.upload = upload;
    this.files = files;
    this.position = position;
    this.rejected = false;
    this.name = h('span', { class: 'draft__name' });
    this.progress = progressBar(this.displayName());
    this.state = h('span', { class: 'draft__state' });
    this.removeButton = h(
      'button',
      {
        type: 'button',
        class: 'button button--small button--secondary',
        on: { click: () => onRemove(this) },
      },
      t('attachment.remove'),
      h('span', { class: 'visually-hidden', text: ` ${this.displayName()}` }),
    );
    this.retryButton = h('button', {
      type: 'button',
      class: 'button button--small button--secondary',
      text: t('attachment.retry'),
      hidden: true,
      on: { click: () => upload?.resume() },
    });
    this.element = h(
      'li',
      { class: 'draft' },
      this.name,
      this.progress,
      this.state,
      h('span', { class: 'draft__buttons' }, this.retryButton, this.removeButton),
    );
    this.render();
  }

  /** The file's entry in the FileTracker, once its id is known. */
  get entry() {
    return this.id ? this.files.entry(this.id) : null;
  }

  /** Whether every byte is stored, so the file can be listed in the letter. */
  get stored() {
    return this.upload === null || this.upload.state === 'stored';
  }

  /** Whether the file cannot go with the letter as it is. */
  get failed() {
    const upload = this.upload;
    return (
      this.rejected ||
      upload?.state === 'failed' ||
      upload?.state === 'interrupted' ||
      this.entry?.status === 'failed'
    );
  }

  displayName() {
    return (
      this.upload?.name ??
      this.entry?.view?.name ??
      t('findings.file', { position: this.position })
    );
  }

  render() {
    const { upload } = this;
    const entry = this.entry;
    const name = this.displayName();
    const ready = entry?.status === 'ready' && entry.view?.status === 'ready' && !this.rejected;
    // A ready file opens in a new tab, so the letter being written stays open.
    this.name.replaceChildren(
      ready
        ? h('a', { href: fileUrl(this.id), target: '_blank', rel: 'noopener', text: name })
        : name,
    );
    this.retryButton.hidden = upload?.state !== 'interrupted';
    this.progress.hidden = this.failed || ready;
    this.element.classList.toggle('draft--failed', this.failed);
    this.state.textContent = this.#stateText(entry);
    if (upload?.state === 'uploading') this.progress.value = upload.percent;
    else if (this.stored) this.progress.value = entry?.progress ?? 0;
  }

  #stateText(entry) {
    const { upload } = this;
    if (this.rejected) return t('letter.files.rejected');
    if (upload?.state === 'uploading') {
      return t('attachment.uploading', { percent: upload.percent });
    }
    if (upload?.state === 'waiting') {
      const busy = upload.errorCode === 'server.busy';
      return t(busy ? 'attachment.waiting_busy' : 'attachment.waiting');
    }
    if (upload?.state === 'interrupted') {
      return t('attachment.interrupted', { reason: errorText(upload.errorCode) });
    }
    if (upload?.state === 'failed') return errorText(upload.errorCode, upload.errorField);
    if (entry?.status === 'failed') return errorText(entry.failure ?? 'media.failed');
    if (entry?.status === 'ready') return t('attachment.ready');
    if (entry?.status === 'processing') return processingText(entry);
    return t('app.loading');
  }
}

/** Returns the categories the agreement lets `side` attach, in the hint's order. */
export function allowedCategories(agreement, side) {
  const chosen = new Set(agreement?.media?.[side] ?? []);
  return CATEGORIES.filter((category) => chosen.has(category));
}

/**
 * Creates the file list of a letter being edited. `initial` lists the
 * ids the letter has, `allowed` the categories the writer's side may
 * attach, and `onChange(ids)` is called with the ids to save whenever a
 * file is stored or removed. Returns the section and controls the editor
 * uses: `ids()`, `waiting()` (a file still sending bytes), `hasFailed()`,
 * `reject(ids)` for files the server would not attach, and `dispose()`.
 */
export function letterFiles({ conversationId, files, initial, allowed, onChange }) {
  const list = h('ul', {
    class: 'draft-list',
    attrs: { 'aria-labelledby': 'letter-files-heading' },
  });
  const empty = h('p', { class: 'empty', text: t('letter.files.empty') });
  const notice = h('p', { class: 'composer__notice', attrs: { role: 'status' } });
  const problem = h('div', { class: 'alert', attrs: { role: 'alert' } });
  const fileInput = h('input', {
    type: 'file',
    multiple: true,
    accept: allowed.flatMap((category) => PICKER_TYPES[category]).join(','),
    hidden: true,
    // The input is never focused, because the attach button opens it.
    tabIndex: -1,
  });
  const attachButton = h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: t('letter.files.attach'),
    attrs: { 'aria-describedby': 'letter-files-hint' },
    on: { click: () => fileInput.click() },
  });
  const kinds = new Intl.ListFormat(document.documentElement.lang, { type: 'conjunction' }).format(
    allowed.map((category) => t(`agreement_page.media.${category}`)),
  );
  const hint =
    allowed.length > 0
      ? t('letter.files.hint', { kinds, max: MAX_LETTER_FILES })
      : t('letter.files.none_allowed');
  const element = h(
    'section',
    { class: 'letter-files', attrs: { 'aria-labelledby': 'letter-files-heading' } },
    h('h2', { id: 'letter-files-heading', text: t('letter.files.title') }),
    h('p', { id: 'letter-files-hint', class: 'field__hint', text: hint }),
    problem,
    list,
    empty,
    notice,
    allowed.length > 0 ? h('div', { class: 'composer__attach' }, attachButton, fileInput) : null,
  );

  /** @type {LetterFile[]} */
  let items = [];

  const ids = () => items.filter((item) => item.stored && !item.failed).map((item) => item.id);

  function showList() {
    empty.hidden = items.length > 0;
    list.hidden = items.length === 0;
    if (!items.some((item) => item.failed)) problem.textContent = '';
  }

  function remove(item) {
    item.upload?.abort();
    item.element.remove();
    const wasListed = item.stored && !item.failed;
    items = items.filter((each) => each !== item);
    showList();
    notice.textContent = t('letter.files.removed', { name: item.displayName() });
    // The removed button had focus, so it moves to a control that stays.
    if (allowed.length > 0) attachButton.focus();
    if (wasListed) onChange(ids());
  }

  function add(item) {
    items.push(item);
    list.append(item.element);
    showList();
  }

  initial.forEach((id, index) => {
    files.track(id);
    add(new LetterFile({ id, files, position: index + 1, onRemove: remove }));
  });

  function addFiles(chosen) {
    const room = MAX_LETTER_FILES - items.length;
    notice.textContent =
      chosen.length > room ? t('letter.files.too_many', { max: MAX_LETTER_FILES }) : '';
    for (const file of chosen.slice(0, Math.max(0, room))) {
      const upload = new Upload(file, conversationId, files);
      const item = new LetterFile({
        upload,
        files,
        position: items.length + 1,
        onRemove: remove,
      });
      let lastState = upload.state;
      upload.addEventListener('change', () => {
        item.id = upload.id;
        item.render();
        if (upload.state === lastState) return;
        lastState = upload.state;
        if (upload.state === 'stored' && !item.failed) {
          notice.textContent = t('letter.files.attached', { name: upload.name });
          onChange(ids());
        } else if (item.failed) {
          notice.textContent = t('attachment.announce_failed', {
            name: upload.name,
            reason: errorText(upload.errorCode, upload.errorField),
          });
        }
      });
      add(item);
      upload.start();
    }
  }

  const onFileChange = (event) => {
    for (const item of items) {
      if (item.id !== event.detail.id) continue;
      const hadFailed = item.failed;
      item.render();
      // A file that failed processing cannot be submitted, so it leaves the saved list.
      if (!hadFailed && item.failed && item.stored) onChange(ids());
    }
  };
  files.addEventListener('change', onFileChange);

  fileInput.addEventListener('change', () => {
    addFiles([...fileInput.files]);
    // Clearing lets the same file be chosen again after removing it.
    fileInput.value = '';
  });
  showList();

  return {
    element,
    ids,
    waiting: () => items.some((item) => !item.stored && !item.failed),
    hasFailed: () => items.some((item) => item.failed),
    /** Marks files the server would not attach, and explains why in the alert. */
    reject(rejectedIds) {
      const names = [];
      for (const item of items) {
        if (!rejectedIds.includes(item.id) || item.rejected) continue;
        item.rejected = true;
        item.render();
        names.push(item.displayName());
      }
      if (names.length > 0) {
        const joined = new Intl.ListFormat(document.documentElement.lang).format(names);
        problem.textContent = t('letter.files.rejected_alert', { names: joined });
      }
    },
    dispose() {
      files.removeEventListener('change', onFileChange);
      for (const item of items) if (!item.stored) item.upload.abort();
    },
  };
}
