// The Case notes area of a contact link's conversation view, for its
// supervising practitioner: the link's notes, oldest first, each with its
// author and time, and a form that adds one. The server seals each note to
// the organisation and rejects the families' requests with 403, so the
// page shows this area to the supervisor only.

import { addCaseNote, fetchCaseNotes } from '../api.js';
import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import { clearFieldError, field, showFieldError } from './fields.js';
import { timeElement } from './letter-parts.js';

/** The maximum length of a note in characters, the same as the server allows. */
const MAX_NOTE_CHARS = 10_000;

function noteItem(note) {
  return h(
    'li',
    { class: 'case-note', dataset: { noteId: note.id } },
    h(
      'p',
      { class: 'case-note__meta' },
      h('span', { class: 'case-note__author', text: note.author_name }),
      ', ',
      timeElement(note.written_at),
    ),
    h('p', { class: 'case-note__body', text: note.body }),
  );
}

/** Creates the form that adds a note. `onAdded(note)` is called with each stored note. */
function noteForm(ctx, conversationId, { notice, alert, onAdded }) {
  const bodyField = field({
    id: 'case-note-body',
    name: 'body',
    tag: 'textarea',
    label: t('case_notes.body_label'),
    hint: t('case_notes.body_hint', { max: MAX_NOTE_CHARS.toLocaleString('en-GB') }),
  });
  bodyField.input.rows = 4;
  const button = h('button', { type: 'submit', class: 'button', text: t('case_notes.add') });
  const form = h(
    'form',
    { class: 'case-notes__form', noValidate: true },
    bodyField.wrapper,
    h('div', { class: 'actions' }, button),
  );

  let saving = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (saving) return;
    clearFieldError(bodyField);
    notice.textContent = '';
    alert.textContent = '';
    const body = bodyField.input.value;
    if (!body.trim()) {
      showFieldError(bodyField, t('case_notes.body_invalid'));
      focusElement(bodyField.input);
      return;
    }
    saving = true;
    button.disabled = true;
    try {
      const note = await addCaseNote(conversationId, body);
      if (ctx.signal.aborted) return;
      bodyField.input.value = '';
      notice.textContent = t('case_notes.added');
      onAdded(note);
    } catch (error) {
      if (ctx.signal.aborted) return;
      if (error.code === 'request.invalid_field' && error.field === 'body') {
        showFieldError(bodyField, t('case_notes.body_invalid'));
        focusElement(bodyField.input);
      } else {
        alert.textContent = describeError(error);
      }
    } finally {
      saving = false;
      button.disabled = false;
    }
  });
  return form;
}

/**
 * Creates the Case notes area of the contact link `summary` and starts
 * loading it. Returns `{ element }`.
 */
export function caseNotesArea(ctx, summary) {
  const notice = statusRegion();
  const alert = alertRegion();
  const list = h('ol', {
    class: 'case-note-list',
    attrs: { 'aria-labelledby': 'case-notes-heading' },
  });
  const empty = h('p', { class: 'empty', text: t('case_notes.empty'), hidden: true });

  const show = (notes) => {
    list.replaceChildren(...notes.map(noteItem));
    list.hidden = notes.length === 0;
    empty.hidden = notes.length > 0;
  };
  const append = (note) => {
    list.append(noteItem(note));
    list.hidden = false;
    empty.hidden = true;
  };

  const element = h(
    'section',
    { class: 'case-notes', attrs: { 'aria-labelledby': 'case-notes-heading' } },
    h('h2', { id: 'case-notes-heading', text: t('case_notes.title') }),
    h('p', { class: 'field__hint', text: t('case_notes.intro') }),
    alert,
    list,
    empty,
    noteForm(ctx, summary.id, { notice, alert, onAdded: append }),
    notice,
  );

  fetchCaseNotes(summary.id)
    .then((notes) => {
      if (!ctx.signal.aborted) show(notes);
    })
    .catch((error) => {
      if (!ctx.signal.aborted) alert.textContent = describeError(error);
    });

  return { element };
}
