// The composer under a conversation: the message text and the files to send
// with it. Each chosen file starts uploading at once and shows its progress,
// first of the bytes sent and then of the server's processing. A message
// goes out only once every attached file has all its bytes stored; pressing
// Send earlier sends it as soon as they have.

import { h } from '../dom.js';
import { errorText, t } from '../i18n.js';
import { Upload } from '../upload.js';
import { processingText, progressBar } from './attachments.js';

/** The maximum number of files in one message, the same as the server allows. */
const MAX_ATTACHMENTS = 10;

// The kinds the server accepts. It decides by the bytes, never by this
// list, which only narrows the browser's file picker.
const ACCEPTED_TYPES = [
  'application/pdf',
  'image/jpeg',
  'image/png',
  'image/heic',
  'image/heif',
  '.heic',
  '.heif',
  'audio/*',
  'video/*',
].join(',');

/** Returns whether a file was rejected or stopped uploading, so it cannot be sent as it is. */
function hasFailed(upload, entry) {
  return (
    upload.state === 'failed' || upload.state === 'interrupted' || entry?.status === 'failed'
  );
}

/** One file in the composer: its name, progress, state and buttons. */
class Draft {
  constructor(upload, files, { onRemove }) {
    this.upload = upload;
    this.files = files;
    this.progress = progressBar(upload.name);
    this.state = h('span', { class: 'draft__state' });
    this.retryButton = h('button', {
      type: 'button',
      class: 'button button--small button--secondary',
      text: t('attachment.retry'),
      hidden: true,
      on: { click: () => upload.resume() },
    });
    const removeButton = h(
      'button',
      {
        type: 'button',
        class: 'button button--small button--secondary',
        on: { click: () => onRemove(this) },
      },
      t('attachment.remove'),
      h('span', { class: 'visually-hidden', text: ` ${upload.name}` }),
    );
    this.element = h(
      'li',
      { class: 'draft' },
      h('span', { class: 'draft__name', text: upload.name }),
      this.progress,
      this.state,
      h('span', { class: 'draft__buttons' }, this.retryButton, removeButton),
    );
    this.render();
  }

  /** The file's entry in the FileTracker, once its bytes are stored. */
  get entry() {
    return this.upload.id ? this.files.entry(this.upload.id) : null;
  }

  get sendable() {
    return this.upload.state === 'stored' && !hasFailed(this.upload, this.entry);
  }

  get failed() {
    return hasFailed(this.upload, this.entry);
  }

  render() {
    const { upload } = this;
    const entry = this.entry;
    this.retryButton.hidden = upload.state !== 'interrupted';
    this.progress.hidden = this.failed;
    this.element.classList.toggle('draft--failed', this.failed);

    if (upload.state === 'uploading') {
      this.progress.value = upload.percent;
      this.state.textContent = t('attachment.uploading', { percent: upload.percent });
    } else if (upload.state === 'waiting') {
      this.state.textContent = t(
        upload.errorCode === 'server.busy' ? 'attachment.waiting_busy' : 'attachment.waiting',
      );
    } else if (upload.state === 'interrupted') {
      this.state.textContent = t('attachment.interrupted', {
        reason: errorText(upload.errorCode),
      });
    } else if (upload.state === 'failed') {
      this.state.textContent = errorText(upload.errorCode, upload.errorField);
    } else if (entry?.status === 'failed') {
      this.state.textContent = errorText(entry.failure ?? 'media.failed');
    } else if (entry?.status === 'ready') {
      this.progress.value = 100;
      this.state.textContent = t('attachment.ready');
    } else {
      this.progress.value = entry?.progress ?? 0;
      this.state.textContent = processingText(entry ?? {});
    }
  }
}

/**
 * Creates the composer. `onSend(body, fileIds)` queues a message and
 * returns whether it did. Returns the form, `disable()` for a
 * conversation I was removed from, `closeWith(text)` to close it with a
 * notice while I may not send here (`null` opens it again), and
 * `dispose()` for leaving the page, which stops uploads still sending
 * bytes.
 */
export function composer({ conversationId, files, onSend }) {
  const textarea = h('textarea', {
    id: 'composer-input',
    name: 'body',
    rows: 3,
    class: 'composer__input',
    attrs: { 'aria-describedby': 'composer-hint' },
  });
  const fileInput = h('input', {
    type: 'file',
    multiple: true,
    accept: ACCEPTED_TYPES,
    hidden: true,
    // The input is never focused, because the attach button opens it.
    tabIndex: -1,
  });
  const attachButton = h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: t('attachment.attach'),
    attrs: { 'aria-describedby': 'attach-hint' },
    on: { click: () => fileInput.click() },
  });
  const sendButton = h('button', { type: 'submit', class: 'button', text: t('conversation.send') });
  const draftList = h('ul', {
    class: 'draft-list',
    hidden: true,
    attrs: { 'aria-label': t('attachment.drafts_label') },
  });
  const notice = h('p', { class: 'composer__notice', attrs: { role: 'status' } });
  const closedNotice = h('p', {
    id: 'composer-closed',
    class: 'composer__closed',
    hidden: true,
    attrs: { role: 'status' },
  });
  // Announces each file's outcome, which the progress text does not.
  const announcer = h('p', { class: 'visually-hidden', attrs: { role: 'status' } });
  const form = h(
    'form',
    { class: 'composer' },
    h('label', {
      htmlFor: 'composer-input',
      class: 'field__label',
      text: t('conversation.composer_label'),
    }),
    h('p', { id: 'composer-hint', class: 'field__hint', text: t('conversation.composer_hint') }),
    closedNotice,
    textarea,
    draftList,
    notice,
    announcer,
    h(
      'div',
      { class: 'composer__actions' },
      h(
        'div',
        { class: 'composer__attach' },
        attachButton,
        h('span', {
          id: 'attach-hint',
          class: 'field__hint',
          text: t('attachment.attach_hint', { max: MAX_ATTACHMENTS }),
        }),
        fileInput,
      ),
      sendButton,
    ),
  );

  /** @type {Draft[]} */
  let drafts = [];
  /** Whether Send was pressed while files were still uploading. */
  let sendWhenStored = false;
  // Sending stops for good once I am removed, and for a while when the
  // conversation does not take my messages.
  let removed = false;
  let closedText = null;
  function setControls() {
    const off = removed || closedText !== null;
    textarea.disabled = off;
    sendButton.disabled = off;
    attachButton.disabled = off;
    if (off) sendWhenStored = false;
  }

  function showDrafts() {
    draftList.hidden = drafts.length === 0;
  }

  function announce(upload, entry) {
    if (upload.state === 'stored' && entry?.status !== 'failed') {
      announcer.textContent = t('attachment.announce_stored', { name: upload.name });
    } else if (upload.state === 'failed' || upload.state === 'interrupted') {
      const reason = errorText(upload.errorCode, upload.errorField);
      announcer.textContent = t('attachment.announce_failed', { name: upload.name, reason });
    } else if (entry?.status === 'failed') {
      const reason = errorText(entry.failure ?? 'media.failed');
      announcer.textContent = t('attachment.announce_failed', { name: upload.name, reason });
    }
  }

  function removeDraft(draft) {
    draft.upload.abort();
    draft.element.remove();
    drafts = drafts.filter((each) => each !== draft);
    showDrafts();
    if (!drafts.some((each) => each.failed)) notice.textContent = '';
    // The removed button had focus, so it moves to a control that stays.
    attachButton.focus();
    if (sendWhenStored) submit();
  }

  function addFiles(fileList) {
    const chosen = [...fileList];
    const room = MAX_ATTACHMENTS - drafts.length;
    if (chosen.length > room) {
      notice.textContent = t('attachment.too_many', { max: MAX_ATTACHMENTS });
    }
    for (const file of chosen.slice(0, Math.max(0, room))) {
      const upload = new Upload(file, conversationId, files);
      const draft = new Draft(upload, files, { onRemove: removeDraft });
      let lastState = upload.state;
      upload.addEventListener('change', () => {
        draft.render();
        if (upload.state !== lastState) {
          lastState = upload.state;
          announce(upload, draft.entry);
          onDraftsChanged();
        }
      });
      drafts.push(draft);
      draftList.append(draft.element);
      upload.start();
    }
    showDrafts();
  }

  // Sends a message that waits for its files once they are all stored, or
  // gives up on it when one of them fails.
  function onDraftsChanged() {
    if (!sendWhenStored) return;
    if (drafts.some((draft) => draft.failed)) {
      sendWhenStored = false;
      notice.textContent = t('attachment.remove_failed');
    } else if (drafts.every((draft) => draft.sendable)) {
      submit();
    }
  }

  function submit() {
    const body = textarea.value;
    if (!body.trim() && drafts.length === 0) {
      sendWhenStored = false;
      return;
    }
    if (drafts.some((draft) => draft.failed)) {
      sendWhenStored = false;
      notice.textContent = t('attachment.remove_failed');
      return;
    }
    if (!drafts.every((draft) => draft.sendable)) {
      sendWhenStored = true;
      notice.textContent = t('attachment.send_when_stored');
      return;
    }
    sendWhenStored = false;
    const fileIds = drafts.map((draft) => draft.upload.id);
    if (!onSend(body.trim() ? body : '', fileIds)) return;
    textarea.value = '';
    notice.textContent = '';
    drafts = [];
    draftList.replaceChildren();
    showDrafts();
  }

  const onFileChange = (event) => {
    const entry = event.detail;
    for (const draft of drafts) {
      if (draft.upload.id !== entry.id) continue;
      const hadFailed = draft.failed;
      draft.render();
      if (!hadFailed && draft.failed) {
        announce(draft.upload, entry);
        onDraftsChanged();
      }
    }
  };
  files.addEventListener('change', onFileChange);

  fileInput.addEventListener('change', () => {
    addFiles(fileInput.files);
    // Clearing lets the same file be chosen again after removing it.
    fileInput.value = '';
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
    textarea.focus();
  });
  textarea.addEventListener('keydown', (event) => {
    // isComposing: Enter also confirms input-method candidates (Japanese, Chinese).
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    submit();
  });

  return {
    form,
    disable() {
      removed = true;
      setControls();
    },
    closeWith(text) {
      closedText = text;
      closedNotice.textContent = text ?? '';
      closedNotice.hidden = !text;
      setControls();
    },
    dispose() {
      files.removeEventListener('change', onFileChange);
      for (const draft of drafts) draft.upload.abort();
    },
  };
}
