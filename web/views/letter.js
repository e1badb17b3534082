// One letter, shown the way its viewer needs it: the writer gets the
// editor, the link's supervisor the review, and a party of the other side
// the letter itself, whose first opening is recorded as a read. When the
// link's letters change, the letter is fetched again and shown afresh if
// it changed, but the text a writer is typing is never replaced.

import { fetchLetter, markLetterRead } from '../api.js';
import { focusElement, h } from '../dom.js';
import { formatTime } from '../format.js';
import { t } from '../i18n.js';
import { alertRegion, describeError, pageHeading, statusRegion } from './common.js';
import { writerView } from './letter-editor.js';
import {
  agreementOrNull,
  conversationSummary,
  followLetters,
  isSupervisor,
  letterAttachments,
  mySide,
  plainBody,
} from './letter-parts.js';
import { reviewView } from './letter-review.js';

/**
 * Reads this page has recorded, as "user id:letter id". The server keeps
 * only the first read, and a reader's view of a letter does not include it.
 */
const recordedReads = new Set();

/** Creates the view of a released letter for its readers, and records my read once. */
function readerView(page, letter, agreement) {
  const { ctx } = page;
  const attachments = letterAttachments(letter.attachments, ctx.chat.files);
  const element = h(
    'div',
    { class: 'letter' },
    letter.released_at
      ? h('p', {
          class: 'letter__meta',
          text: t('letter.delivered', { time: formatTime(letter.released_at) }),
        })
      : null,
    plainBody(letter.body),
    attachments?.element,
  );

  const side = mySide(agreement, ctx.user.id);
  const otherSide = side !== null && side !== letter.writer_side;
  const readKey = `${ctx.user.id}:${letter.id}`;
  const alreadyRead =
    recordedReads.has(readKey) ||
    (letter.read_by ?? []).some((read) => read.user_id === ctx.user.id);
  if (letter.status === 'released' && otherSide && !alreadyRead) {
    recordedReads.add(readKey);
    markLetterRead(letter.id).catch((error) => {
      // A later opening tries again.
      recordedReads.delete(readKey);
      console.warn('recording that the letter was read failed', error);
    });
  }
  return { element, dispose: () => attachments?.dispose() };
}

function chooseView(page, letter, summary, agreement, unsavedText) {
  if (letter.writer_id === page.ctx.user.id) {
    return writerView(page, letter, summary, agreement, unsavedText);
  }
  if (isSupervisor(summary, page.ctx.user.id)) return reviewView(page, letter, summary, agreement);
  return readerView(page, letter, agreement);
}

/** Returns what a live refresh compares: when any of it changes, the letter is shown afresh. */
function liveState(letter, agreement) {
  return JSON.stringify([
    letter.status,
    letter.version,
    letter.body,
    letter.attachments,
    letter.reason,
    letter.released_at,
    letter.read_by ?? [],
    agreement?.status ?? null,
    agreement?.status_reason ?? null,
  ]);
}

function backLinks(letter, supervisor) {
  const links = [
    h('a', {
      href: `#/conversations/${letter.conversation_id}`,
      class: 'back-link',
      text: t('letter.back'),
    }),
  ];
  if (supervisor) {
    links.push(
      h('a', { href: '#/review-queue', class: 'back-link', text: t('letter.back_to_queue') }),
    );
  }
  return links;
}

export async function mount(main, ctx, [letterId]) {
  ctx.setTitle(t('letter.title'));
  const back = h('p', { class: 'back-links' });
  const heading = pageHeading(t('letter.title'), 'letter-title');
  const notice = statusRegion();
  const alert = alertRegion();
  const content = h('div');
  main.append(
    h(
      'section',
      { class: 'panel letter-page', attrs: { 'aria-labelledby': 'letter-title' } },
      back,
      heading,
      notice,
      alert,
      content,
    ),
  );

  let current = null;
  let summary = null;
  let agreement = null;
  /** The letter and agreement on screen, which a live refresh compares with the server's. */
  let shown = null;
  ctx.onCleanup(() => current?.dispose());

  const page = {
    ctx,
    alert,
    /**
     * Shows `letter` in the view its viewer needs. `message` goes into the
     * status region, `focusStatus` moves focus to the letter's status, as
     * after an action whose button has gone, and `unsavedText` is the
     * writer's text that the server would no longer store.
     */
    show(letter, { message = '', focusStatus = false, unsavedText = null } = {}) {
      current?.dispose();
      const supervisor = isSupervisor(summary, ctx.user.id);
      const title =
        letter.writer_id === ctx.user.id
          ? t('letter.title_yours')
          : t('letter.title_from', { name: letter.writer_name });
      heading.textContent = title;
      ctx.setTitle(title);
      back.replaceChildren(...backLinks(letter, supervisor));
      alert.textContent = '';
      notice.textContent = message;
      current = chooseView(page, letter, summary, agreement, unsavedText);
      shown = { letter, agreement };
      content.replaceChildren(current.element);
      if (focusStatus) focusElement(content.querySelector('h2') ?? heading);
    },
    /** Loads the letter and its link's agreement again, then shows them. */
    async reload(options) {
      try {
        const letter = await fetchLetter(letterId);
        [summary, agreement] = await Promise.all([
          conversationSummary(ctx, letter.conversation_id),
          agreementOrNull(letter.conversation_id),
        ]);
        if (!ctx.signal.aborted) page.show(letter, options);
      } catch (error) {
        if (!ctx.signal.aborted) alert.textContent = describeError(error);
      }
    },
    /**
     * Fetches the letter after its link's letters changed, and shows it
     * afresh only when it changed. The writer's editor is replaced only
     * when the letter or the link changed status, and the text typed but
     * not stored then shows in a box to copy from.
     */
    async refreshLive() {
      let letter;
      let freshAgreement;
      try {
        letter = await fetchLetter(letterId);
        freshAgreement = await agreementOrNull(letter.conversation_id);
      } catch (error) {
        console.warn(`refreshing letter ${letterId} failed`, error);
        return;
      }
      if (ctx.signal.aborted || !shown) return;
      const editing = typeof current?.unsavedText === 'function';
      const changed = editing
        ? letter.status !== shown.letter.status ||
          freshAgreement?.status !== shown.agreement?.status
        : liveState(letter, freshAgreement) !== liveState(shown.letter, shown.agreement);
      if (!changed) return;
      const unsavedText = editing ? current.unsavedText() : null;
      const hadFocus = content.contains(document.activeElement);
      agreement = freshAgreement;
      const message = t('letter.changed_notice');
      page.show(letter, { message, focusStatus: hadFocus, unsavedText });
    },
  };

  notice.textContent = t('app.loading');
  await page.reload();
  if (notice.textContent === t('app.loading')) notice.textContent = '';
  if (!shown || ctx.signal.aborted) return;
  const conversationId = shown.letter.conversation_id;
  ctx.chat.watch(conversationId);
  followLetters(ctx, (id) => id === conversationId, () => page.refreshLive());
}
