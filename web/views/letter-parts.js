// Pieces shared by the letterbox views: status and finding reasons in
// words, the agreement notice, the findings list, letter text with its
// findings marked, and who I am in a contact link.
//
// Finding offsets (`start`, `end`) count UTF-16 code units, so they index
// JavaScript strings directly.

import { fetchAgreement, fetchConversations } from '../api.js';
import { h } from '../dom.js';
import { formatTime } from '../format.js';
import { hasMessage, t } from '../i18n.js';
import { MessageAttachments } from './attachments.js';

const LETTER_STATUSES = new Set(['draft', 'submitted', 'returned', 'held', 'released']);
const SIDES = new Set(['adoptive', 'birth']);

/** Returns a letter's status in words, such as "Waiting for review". */
export function letterStatusText(status) {
  return t(LETTER_STATUSES.has(status) ? `letter.status.${status}` : 'letter.status.unknown');
}

/** Returns a side of a contact link in words, such as "birth family". */
export function sideText(side) {
  return t(SIDES.has(side) ? `letters.side.${side}` : 'letters.side.unknown');
}

/** Returns the reason a finding's `rule` gives, in words. */
export function findingReason(rule) {
  const key = `findings.rule.${rule}`;
  return hasMessage(key) ? t(key) : t('findings.rule.unknown');
}

/** Creates a `<time>` element for an RFC 3339 time. */
export function timeElement(iso) {
  return h('time', { dateTime: iso, text: formatTime(iso) });
}

/**
 * Returns the summary of a conversation I am a member of, from the chat's
 * record or, the first time, from GET /conversations. Null when I am not a member.
 */
export async function conversationSummary(ctx, conversationId) {
  let state = ctx.chat.conversation(conversationId);
  if (!state) {
    ctx.chat.updateSummaries(await fetchConversations());
    state = ctx.chat.conversation(conversationId);
  }
  return state?.summary ?? null;
}

/** Returns whether I supervise the conversation, the practitioner's part in a contact link. */
export function isSupervisor(summary, userId) {
  const me = (summary?.members ?? []).find((member) => member.user_id === userId);
  return me?.role === 'supervisor';
}

/** Returns the link's agreement, or null when the link has none yet. */
export async function agreementOrNull(conversationId) {
  try {
    return await fetchAgreement(conversationId);
  } catch (error) {
    if (error.code === 'resource.not_found') return null;
    throw error;
  }
}

/** Returns my side (`adoptive` or `birth`) in an agreement, or null when I am not a party. */
export function mySide(agreement, userId) {
  const party = (agreement?.parties ?? []).find((each) => each.user_id === userId);
  return party?.side ?? null;
}

/** Returns the display name of a member of the link, or a fallback for a former one. */
export function memberName(summary, agreement, userId) {
  const member = (summary?.members ?? []).find((each) => each.user_id === userId);
  if (member) return member.display_name;
  const party = (agreement?.parties ?? []).find((each) => each.user_id === userId);
  return party?.display_name ?? t('conversation.former_member');
}

/**
 * Creates the notice of a link whose letters cannot be written now: no
 * agreement yet, suspended or ended, with the practitioner's reason.
 * Returns null for an active agreement.
 */
export function agreementNotice(agreement) {
  let key;
  if (!agreement) key = 'agreement.none';
  else if (agreement.status === 'suspended') key = 'agreement.suspended';
  else if (agreement.status === 'ended') key = 'agreement.ended';
  else return null;

  return h(
    'div',
    { class: 'callout callout--warning' },
    h('p', { class: 'callout__title', text: t(key) }),
    agreement?.status_reason
      ? h('p', { text: t('agreement.reason', { reason: agreement.status_reason }) })
      : null,
  );
}

/** Returns the text a finding flags, from the body the findings were made for. */
export function flaggedText(body, finding) {
  return body.slice(finding.start, finding.end);
}

function textFinding(body, finding) {
  return h(
    'li',
    { class: 'finding' },
    h('q', { class: 'finding__quote', text: flaggedText(body, finding) }),
    ' ',
    h('span', { class: 'finding__reason', text: findingReason(finding.rule) }),
    finding.term
      ? h('span', { class: 'finding__term', text: t('findings.term', { term: finding.term }) })
      : null,
  );
}

function attachmentFinding(finding, position, files) {
  const name = files?.entry(finding.file_id)?.view?.name ?? t('findings.file', { position });
  const place = finding.page ? t('findings.file_page', { name, page: finding.page }) : name;
  const excerpt = finding.excerpt;
  return h(
    'li',
    { class: 'finding' },
    h('span', { class: 'finding__file', text: place }),
    ' ',
    excerpt
      ? h(
          'q',
          { class: 'finding__quote' },
          excerpt.before,
          h('mark', { text: excerpt.text }),
          excerpt.after,
        )
      : null,
    excerpt ? ' ' : null,
    h('span', { class: 'finding__reason', text: findingReason(finding.rule) }),
    finding.term
      ? h('span', { class: 'finding__term', text: t('findings.term', { term: finding.term }) })
      : null,
  );
}

/**
 * Fills `list` with the findings of a letter's text and attachments, or
 * with a line saying there are none. `attachments` gives each file's place
 * for files whose name has not loaded. A finding's `term`, the protected
 * term it matched, is shown when present, and only practitioners receive it.
 */
export function fillFindings(list, { body, findings, attachmentFindings, attachments, files }) {
  const items = (findings ?? []).map((finding) => textFinding(body, finding));
  for (const finding of attachmentFindings ?? []) {
    const position = (attachments ?? []).indexOf(finding.file_id) + 1;
    items.push(attachmentFinding(finding, position, files));
  }
  if (items.length === 0) {
    items.push(h('li', { class: 'finding finding--none', text: t('findings.none') }));
  }
  list.replaceChildren(...items);
}

/** Returns the count of findings in a letter's text and attachments. */
export function findingCount(letter) {
  return (letter.findings ?? []).length + (letter.attachment_findings ?? []).length;
}

/**
 * Creates the text of a letter with each flagged stretch in a `<mark>`.
 * Overlapping findings (a full name that contains a protected term) share
 * one mark.
 */
export function markedBody(body, findings) {
  const ranges = [...(findings ?? [])]
    .filter((finding) => finding.end > finding.start)
    .sort((a, b) => a.start - b.start || a.end - b.end);
  const element = h('div', { class: 'letter__body' });
  let position = 0;
  let index = 0;
  while (index < ranges.length) {
    const start = Math.max(ranges[index].start, position);
    let end = ranges[index].end;
    index += 1;
    while (index < ranges.length && ranges[index].start < end) {
      end = Math.max(end, ranges[index].end);
      index += 1;
    }
    if (end <= start) continue;
    element.append(body.slice(position, start), h('mark', { text: body.slice(start, end) }));
    position = end;
  }
  element.append(body.slice(position));
  return element;
}

/** Creates the paragraph with a letter's text, without marks. */
export function plainBody(body) {
  return h('div', { class: 'letter__body', text: body });
}

/**
 * Creates the list of who on the other side has read a letter, or null
 * when the server sent no reads, as for a writer whose agreement keeps
 * read receipts for practitioners.
 */
export function readReceipts(letter, nameOf) {
  const reads = letter.read_by ?? [];
  if (reads.length === 0) return null;
  return h(
    'ul',
    { class: 'letter__reads' },
    reads.map((read) =>
      h('li', {
        text: t('letter.read_by', { name: nameOf(read.user_id), time: formatTime(read.read_at) }),
      }),
    ),
  );
}

/**
 * Creates a boxed notice: a level-two heading, sentences, and the
 * practitioner's reason quoted below them when there is one. `tone` is
 * `info`, `important` or `warning`.
 */
export function callout({ title, sentences = [], reason = null, tone = 'info' }) {
  return h(
    'div',
    { class: `callout callout--${tone}` },
    h('h2', { class: 'callout__title', text: title, attrs: { tabindex: '-1' } }),
    sentences.map((sentence) => h('p', { text: sentence })),
    reason ? h('p', { class: 'callout__reason-label', text: t('letter.reason_label') }) : null,
    reason ? h('blockquote', { class: 'callout__reason', text: reason }) : null,
  );
}

/** Wait after a `letters` frame before refetching, so a burst of frames costs one request. */
const LETTERS_REFRESH_DELAY_MS = 250;

/**
 * Calls `refresh` shortly after `letters` frames for a conversation that
 * `matches` (a function of its id), and after the live connection comes
 * back, because frames sent while it was down are not sent again. Stops
 * when the view is left.
 */
export function followLetters(ctx, matches, refresh) {
  let timer = null;
  let wasDown = false;
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      if (!ctx.signal.aborted) refresh();
    }, LETTERS_REFRESH_DELAY_MS);
  };
  const onLetters = (event) => {
    if (matches(event.detail.conversationId)) schedule();
  };
  const onStatus = (event) => {
    if (event.detail === 'reconnecting') wasDown = true;
    if (event.detail === 'open' && wasDown) {
      wasDown = false;
      schedule();
    }
  };
  ctx.chat.addEventListener('letters', onLetters);
  ctx.chat.addEventListener('status', onStatus);
  const stop = () => {
    clearTimeout(timer);
    ctx.chat.removeEventListener('letters', onLetters);
    ctx.chat.removeEventListener('status', onStatus);
  };
  ctx.signal.addEventListener('abort', stop, { once: true });
  return stop;
}

/**
 * Creates the list of a letter's attached files, kept up to date from the
 * page's FileTracker. Returns null for a letter without files, else
 * `{ element, dispose }`.
 */
export function letterAttachments(fileIds, files) {
  if (!fileIds || fileIds.length === 0) return null;
  const attachments = new MessageAttachments(fileIds, files);
  const onChange = (event) => attachments.update(event.detail);
  files.addEventListener('change', onChange);
  return {
    element: attachments.element,
    dispose: () => files.removeEventListener('change', onChange),
  };
}
