// The writer's view of their own letter. A draft or returned letter in an
// active link is edited in a text area that saves as one types, about
// 600 ms after the last keystroke and again on Submit, with the files the
// writer attaches. The findings of the identifying-information check are
// listed under it, quoting the writer's own words and naming each file a
// person will look at. A submitted, held or released letter is read-only
// and shows its status.

import { NETWORK_ERROR, saveLetter, submitLetter } from '../api.js';
import { focusElement, h } from '../dom.js';
import { t, tPlural } from '../i18n.js';
import { describeError } from './common.js';
import { clearFieldError, field, showFieldError } from './fields.js';
import {
  agreementNotice,
  callout,
  fillFindings,
  findingCount,
  letterAttachments,
  memberName,
  plainBody,
  readReceipts,
} from './letter-parts.js';
import { allowedCategories, letterFiles } from './letter-files.js';

/** Wait after the last keystroke before the draft is saved. */
const SAVE_DELAY_MS = 600;
/** Wait before a save that failed on the connection or the server is tried again. */
const RETRY_DELAY_MS = 5_000;
const TRANSIENT_ERRORS = new Set([NETWORK_ERROR, 'server.internal', 'server.unavailable']);
/** Matches a file id in the server's message about a rejected attachment. */
const FILE_ID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/**
 * Saves a draft letter's text, one request at a time, so a slow response
 * cannot overwrite newer text. Events: `state` (detail: `{ state, error }`,
 * where `state` is `saved`, `unsaved`, `saving` or `failed`) and `saved`
 * (detail: the letter the server returned).
 */
class DraftSaver extends EventTarget {
  #letterId;
  #attachments;
  /** Text typed since the last request went out, or null when there is none. */
  #pending = null;
  /** The chain of save requests, in which each waits for the one before it. */
  #queue = Promise.resolve();
  #timer = null;
  /** The error of the last save, or null when it succeeded. */
  #lastError = null;
  /** Set once the page has left the editor, which then hears no more events. */
  #disposed = false;

  constructor(letterId, attachments) {
    super();
    this.#letterId = letterId;
    this.#attachments = attachments;
  }

  /** Text not yet stored by the server, or null when everything typed is saved. */
  get unsavedText() {
    return this.#pending;
  }

  /** Records new text and saves it once typing pauses. */
  edit(body) {
    this.#pending = body;
    this.#setState('unsaved');
    this.#schedule(SAVE_DELAY_MS);
  }

  /** Records the files of the letter and saves them at once with `body`, the text on screen. */
  setAttachments(ids, body) {
    this.#attachments = [...ids];
    this.#pending = body;
    this.#setState('unsaved');
    this.#schedule(0);
  }

  /**
   * Saves any text not yet saved, after the requests already under way.
   * Resolves with the saved letter, or null when there was nothing to save.
   */
  flush() {
    clearTimeout(this.#timer);
    this.#timer = null;
    const run = this.#queue.then(() => this.#savePending());
    this.#queue = run.catch(() => {});
    return run;
  }

  /**
   * Stops the timer and events, and sends what is left as the page closes,
   * unless the last save was rejected for good (a letter that moved on).
   */
  dispose() {
    clearTimeout(this.#timer);
    this.#disposed = true;
    const rejected = this.#lastError && !TRANSIENT_ERRORS.has(this.#lastError.code);
    if (this.#pending === null || rejected) return;
    this.flush().catch((error) => console.warn('saving the letter on leaving failed', error));
  }

  #schedule(delayMs) {
    clearTimeout(this.#timer);
    if (this.#disposed) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      // A failure is shown through the `state` event.
      this.flush().catch(() => {});
    }, delayMs);
  }

  async #savePending() {
    if (this.#pending === null) return null;
    const body = this.#pending;
    this.#pending = null;
    this.#setState('saving');
    try {
      const letter = await saveLetter(this.#letterId, body, [...this.#attachments]);
      this.#lastError = null;
      this.#setState(this.#pending === null ? 'saved' : 'unsaved');
      this.#dispatch('saved', letter);
      return letter;
    } catch (error) {
      // Text typed during the request is newer, and replaces this text.
      if (this.#pending === null) this.#pending = body;
      this.#lastError = error;
      this.#setState('failed', error);
      if (TRANSIENT_ERRORS.has(error.code)) this.#schedule(RETRY_DELAY_MS);
      throw error;
    }
  }

  #setState(state, error = null) {
    this.#dispatch('state', { state, error });
  }

  #dispatch(type, detail) {
    if (!this.#disposed) this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

// A save rejected for good is explained next to the text or by showing
// the letter afresh, so its state reads only "Not saved".
function saveStateText({ state, error }) {
  if (state !== 'failed') return t(`letter.save.${state}`);
  if (!TRANSIENT_ERRORS.has(error.code)) return t('letter.save.rejected');
  return t('letter.save.retrying', { reason: describeError(error) });
}

/** Creates the notice of a letter's status for its writer, or null for a draft. */
function statusCallout(letter, nameOf) {
  switch (letter.status) {
    case 'returned':
      return callout({
        title: t('letter.status.returned'),
        sentences: [t('letter.writer.returned')],
        reason: letter.reason,
        tone: 'important',
      });
    case 'held':
      return callout({
        title: t('letter.status.held'),
        sentences: [t('letter.writer.held')],
        reason: letter.reason,
        tone: 'warning',
      });
    case 'submitted':
      return callout({
        title: t('letter.status.submitted'),
        sentences: [t('letter.writer.submitted')],
      });
    case 'released': {
      const element = callout({
        title: t('letter.status.released'),
        sentences: [t('letter.writer.released')],
      });
      const reads = readReceipts(letter, nameOf);
      if (reads) element.append(reads);
      return element;
    }
    default:
      return null;
  }
}

/** Creates the findings section: a heading, what the list means, and the list. */
function findingsSection() {
  const list = h('ul', { class: 'finding-list', attrs: { 'aria-labelledby': 'findings-heading' } });
  const element = h(
    'section',
    { class: 'findings', attrs: { 'aria-labelledby': 'findings-heading' } },
    h('h2', { id: 'findings-heading', text: t('findings.title') }),
    h('p', { class: 'field__hint', text: t('findings.intro_writer') }),
    list,
  );
  return { element, list };
}

/** Creates the editor of a draft or returned letter. */
function editor(page, letter, agreement) {
  const { ctx } = page;
  const files = ctx.chat.files;
  const saver = new DraftSaver(letter.id, letter.attachments ?? []);
  const saveState = h('p', {
    id: 'letter-save-state',
    class: 'letter-editor__save',
    text: t('letter.save.saved'),
  });
  const bodyField = field({
    id: 'letter-body',
    name: 'body',
    tag: 'textarea',
    label: t('letter.body_label'),
    hint: t('letter.body_hint'),
    describedBy: ['letter-save-state'],
  });
  const textarea = bodyField.input;
  textarea.rows = 12;
  textarea.classList.add('letter-editor__input');
  textarea.value = letter.body ?? '';

  const attachments = letterFiles({
    conversationId: letter.conversation_id,
    files,
    initial: letter.attachments ?? [],
    allowed: allowedCategories(agreement, letter.writer_side),
    onChange: (ids) => saver.setAttachments(ids, textarea.value),
  });
  const findings = findingsSection();
  // Says how many findings there are when that changes, which the list does not.
  const announcer = h('p', { class: 'visually-hidden', attrs: { role: 'status' } });
  const submitButton = h('button', { type: 'submit', class: 'button', text: t('letter.submit') });
  const form = h(
    'form',
    { class: 'letter-editor', noValidate: true },
    bodyField.wrapper,
    saveState,
    attachments.element,
    findings.element,
    announcer,
    h('div', { class: 'actions' }, submitButton),
  );

  let shownLetter = letter;
  let shownCount = findingCount(letter);
  const showFindings = () => {
    fillFindings(findings.list, {
      body: shownLetter.body ?? '',
      findings: shownLetter.findings,
      attachmentFindings: shownLetter.attachment_findings,
      attachments: shownLetter.attachments,
      files,
    });
  };
  showFindings();

  saver.addEventListener('state', (event) => {
    saveState.textContent = saveStateText(event.detail);
    saveState.classList.toggle('letter-editor__save--failed', event.detail.state === 'failed');
  });
  saver.addEventListener('saved', (event) => {
    shownLetter = event.detail;
    clearFieldError(bodyField);
    showFindings();
    const count = findingCount(shownLetter);
    if (count !== shownCount) {
      shownCount = count;
      announcer.textContent =
        count === 0 ? t('findings.none') : tPlural('findings.count', count);
    }
  });

  // A save that fails for a reason other than the connection is explained
  // next to the text, or, when the letter has moved on, by showing it afresh.
  const explain = (error, action) => {
    if (error.code === 'resource.conflict') {
      const unsavedText = saver.unsavedText ?? textarea.value;
      page.reload({ message: t('letter.conflict'), focusStatus: true, unsavedText });
      return;
    }
    if (error.code === 'request.invalid_field' && error.field === 'body') {
      const key = action === 'submit' ? 'letter.body_empty' : 'letter.body_too_long';
      showFieldError(bodyField, t(key));
      return;
    }
    if (error.code === 'request.invalid_field' && error.field === 'attachments') {
      rejectFiles(error);
      return;
    }
    if (action === 'submit') page.alert.textContent = describeError(error);
  };
  // The server names one rejected file, or none when the list as a whole
  // is wrong. Without a name, every file not yet saved with the letter is
  // marked. The text is then saved again with the files that remain.
  const rejectFiles = (error) => {
    const named = (error.detail ?? '').match(FILE_ID)?.[0]?.toLowerCase();
    const listed = attachments.ids();
    const saved = new Set(shownLetter.attachments ?? []);
    const rejected = listed.includes(named) ? [named] : listed.filter((id) => !saved.has(id));
    attachments.reject(rejected);
    saver.setAttachments(attachments.ids(), textarea.value);
  };
  saver.addEventListener('state', (event) => {
    const { state, error } = event.detail;
    if (state === 'failed' && !TRANSIENT_ERRORS.has(error.code)) explain(error, 'save');
  });

  textarea.addEventListener('input', () => saver.edit(textarea.value));

  // Saves what is left, then submits. A save rejected for good has been
  // explained already by the `state` listener.
  const submitSaved = async () => {
    try {
      await saver.flush();
    } catch (error) {
      if (!ctx.signal.aborted && TRANSIENT_ERRORS.has(error.code)) {
        page.alert.textContent = describeError(error);
      }
      return;
    }
    try {
      const submitted = await submitLetter(letter.id);
      if (ctx.signal.aborted) return;
      page.show(submitted, { message: t('letter.submitted_notice'), focusStatus: true });
    } catch (error) {
      if (ctx.signal.aborted) return;
      explain(error, 'submit');
      if (!bodyField.error.hidden) focusElement(textarea);
    }
  };

  let submitting = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (submitting) return;
    clearFieldError(bodyField);
    page.alert.textContent = '';
    if (attachments.waiting()) {
      page.alert.textContent = t('letter.files.wait');
      return;
    }
    if (attachments.hasFailed()) {
      page.alert.textContent = t('letter.files.remove_failed');
      return;
    }
    if (!textarea.value.trim() && attachments.ids().length === 0) {
      showFieldError(bodyField, t('letter.body_empty'));
      focusElement(textarea);
      return;
    }
    submitting = true;
    submitButton.disabled = true;
    try {
      await submitSaved();
    } finally {
      submitting = false;
      submitButton.disabled = false;
    }
  });

  // Text typed just before the page is hidden or left is saved at once.
  const onHidden = () => {
    if (document.visibilityState === 'hidden') saver.flush().catch(() => {});
  };
  document.addEventListener('visibilitychange', onHidden);
  // A PDF's text is read while it is processed, so its findings are
  // fresh only once it is ready: saving again has the server check it.
  const checkedFiles = new Set();
  const onFileChange = (event) => {
    showFindings();
    const entry = event.detail;
    const finished = entry.status === 'ready' || entry.status === 'failed';
    if (!finished || entry.view?.kind !== 'pdf' || checkedFiles.has(entry.id)) return;
    if (!attachments.ids().includes(entry.id)) return;
    checkedFiles.add(entry.id);
    saver.setAttachments(attachments.ids(), textarea.value);
  };
  files.addEventListener('change', onFileChange);

  return {
    element: form,
    /** Text on screen that the server has not stored, or null when there is none. */
    unsavedText: () => (textarea.value === (shownLetter.body ?? '') ? null : textarea.value),
    dispose() {
      document.removeEventListener('visibilitychange', onHidden);
      files.removeEventListener('change', onFileChange);
      attachments.dispose();
      saver.dispose();
    },
  };
}

/**
 * Creates a notice holding text the server would no longer store, such as
 * edits typed while the link was being suspended, so the writer can copy it.
 */
function unsavedNotice(unsavedText) {
  const copy = field({
    id: 'letter-unsaved',
    name: 'unsaved',
    tag: 'textarea',
    label: t('letter.unsaved_label'),
    attrs: { readonly: true },
  });
  copy.input.rows = 6;
  copy.input.value = unsavedText;
  const element = callout({
    title: t('letter.unsaved_title'),
    sentences: [t('letter.unsaved_intro')],
    tone: 'important',
  });
  element.append(copy.wrapper);
  return element;
}

/** Creates the read-only view of a letter its writer can no longer change. */
function readOnly(page, letter, unsavedText) {
  const attachments = letterAttachments(letter.attachments, page.ctx.chat.files);
  const body = letter.body ?? '';
  const showUnsaved = unsavedText !== null && unsavedText.trim() && unsavedText !== body;
  return {
    element: h(
      'div',
      { class: 'letter' },
      showUnsaved ? unsavedNotice(unsavedText) : null,
      body ? plainBody(body) : null,
      attachments?.element,
    ),
    dispose: () => attachments?.dispose(),
  };
}

/**
 * Creates the writer's view of `letter`: the editor while it is a draft or
 * returned and the link is active, otherwise the letter read-only with any
 * `unsavedText` the server rejected.
 */
export function writerView(page, letter, summary, agreement, unsavedText = null) {
  const nameOf = (userId) => memberName(summary, agreement, userId);
  const editable =
    (letter.status === 'draft' || letter.status === 'returned') && agreement?.status === 'active';
  const inner = editable ? editor(page, letter, agreement) : readOnly(page, letter, unsavedText);
  const element = h(
    'div',
    { class: 'letter-writer' },
    agreement?.status === 'active' ? null : agreementNotice(agreement),
    statusCallout(letter, nameOf),
    inner.element,
  );
  return { element, dispose: inner.dispose, unsavedText: inner.unsavedText };
}
