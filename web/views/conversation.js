// One conversation: its video call, its history, live messages with their
// attached files, read ticks on my own messages, and the composer,
// followed in a contact link by its letters and, for its supervisor, its
// invitations and case notes. Read receipts go out for what is displayed
// while the page is visible.

import { fetchConversations } from '../api.js';
import { h } from '../dom.js';
import { formatTime } from '../format.js';
import { errorText, t } from '../i18n.js';
import { MessageAttachments } from './attachments.js';
import { callArea } from './call.js';
import { scheduleArea } from './call-schedule.js';
import { caseNotesArea } from './case-notes.js';
import {
  alertRegion,
  describeError,
  kindLabel,
  otherMemberNames,
  pageHeading,
  statusRegion,
} from './common.js';
import { composer } from './composer.js';
import { invitationsArea } from './invitations.js';
import { isSupervisor } from './letter-parts.js';
import { lettersArea } from './letters.js';

// Distance from the end of the log, in CSS pixels, within which a new message
// scrolls the log down. A reader scrolled further up keeps their place.
const STICK_TO_BOTTOM_PX = 80;
// Roles of an organisation's staff, who may message in any active link.
const STAFF_ROLES = new Set(['practitioner', 'manager', 'platform_admin']);

async function findConversation(ctx, conversationId) {
  let state = ctx.chat.conversation(conversationId);
  if (state) return state;
  ctx.chat.updateSummaries(await fetchConversations());
  state = ctx.chat.conversation(conversationId);
  return state;
}

function senderName(state, message) {
  if (state.isMine(message)) return t('conversation.you');
  const member = (state.summary.members ?? []).find((each) => each.user_id === message.sender_id);
  return member?.display_name ?? t('conversation.former_member');
}

function statusText(state, message) {
  if (message.status === 'sending') return t('conversation.status.sending');
  if (message.status === 'failed') {
    return t('conversation.status.failed', {
      reason: errorText(message.errorCode, message.errorField),
    });
  }
  return t(state.isReadByOthers(message) ? 'conversation.status.read' : 'conversation.status.sent');
}

/** Renders messages into an ordered list and keeps each element up to date. */
class MessageList {
  constructor(state, files, onRetry) {
    this.state = state;
    this.files = files;
    this.onRetry = onRetry;
    this.elements = new Map();
    /** The attached files of each message that has any, by message_id. */
    this.attachments = new Map();
    this.list = h('ol', { class: 'message-list' });
  }

  /** Passes a FileTracker change to the attachments that show that file. */
  updateFile(entry) {
    for (const attachments of this.attachments.values()) attachments.update(entry);
  }

  add(message) {
    if (this.elements.has(message.message_id)) {
      this.update(message);
      return;
    }
    const mine = this.state.isMine(message);
    const element = h('li', { class: mine ? 'message message--mine' : 'message' });
    this.elements.set(message.message_id, element);
    this.#fill(element, message);
    this.#place(element, message);
  }

  update(message) {
    const element = this.elements.get(message.message_id);
    if (!element) {
      this.add(message);
      return;
    }
    this.#fill(element, message);
    this.#place(element, message);
  }

  #fill(element, message) {
    element.dataset.messageId = message.message_id;
    if (message.seq !== null) element.dataset.seq = String(message.seq);
    const time = message.sent_at
      ? h('time', {
          class: 'message__time',
          dateTime: message.sent_at,
          text: formatTime(message.sent_at),
        })
      : null;
    const children = [
      h(
        'p',
        { class: 'message__meta' },
        h('span', { class: 'message__sender', text: senderName(this.state, message) }),
        time ? ' ' : null,
        time,
      ),
      message.body ? h('p', { class: 'message__body', text: message.body }) : null,
      this.#attachmentsOf(message),
    ];
    if (this.state.isMine(message)) children.push(this.#statusLine(message));
    element.replaceChildren(...children.filter(Boolean));
  }

  // The attachments element is made once per message and moved back in on
  // every redraw. Moving it within one task keeps a playing video playing.
  #attachmentsOf(message) {
    if (message.attachments.length === 0) return null;
    let attachments = this.attachments.get(message.message_id);
    if (!attachments) {
      attachments = new MessageAttachments(message.attachments, this.files);
      this.attachments.set(message.message_id, attachments);
    }
    return attachments.element;
  }

  #statusLine(message) {
    const line = h('p', {
      class: `message__status message__status--${message.status}`,
      text: statusText(this.state, message),
    });
    if (message.status === 'failed') {
      line.append(
        ' ',
        h('button', {
          type: 'button',
          class: 'button button--small',
          text: t('conversation.retry'),
          on: { click: () => this.onRetry(message) },
        }),
      );
    }
    return line;
  }

  // Keeps the list in seq order with unacknowledged messages last. An ack
  // can give a message a seq below one that arrived before the ack.
  #place(element, message) {
    const key = message.seq ?? Number.POSITIVE_INFINITY;
    let before = null;
    for (const other of this.list.children) {
      if (other === element) continue;
      const otherKey = other.dataset.seq ? Number(other.dataset.seq) : Number.POSITIVE_INFINITY;
      if (otherKey > key) {
        before = other;
        break;
      }
    }
    if (element.parentNode === this.list && element.nextElementSibling === before) return;
    this.list.insertBefore(element, before);
  }
}

export async function mount(main, ctx, [conversationId]) {
  ctx.setTitle(t('conversation.messages'));
  const heading = pageHeading(t('conversation.messages'), 'conversation-title');
  const loading = statusRegion();
  const alert = alertRegion();
  const section = h(
    'section',
    { class: 'panel conversation', attrs: { 'aria-labelledby': 'conversation-title' } },
    h(
      'p',
      {},
      h('a', { href: '#/conversations', class: 'back-link', text: t('conversation.back') }),
    ),
    heading,
    loading,
    alert,
  );
  main.append(section);
  loading.textContent = t('app.loading');

  let state;
  try {
    state = await findConversation(ctx, conversationId);
    if (state) await ctx.chat.open(conversationId);
  } catch (error) {
    if (ctx.signal.aborted) return;
    loading.textContent = '';
    alert.textContent = describeError(error);
    return;
  }
  if (ctx.signal.aborted) return;
  loading.textContent = '';
  if (!state) {
    alert.textContent = errorText('resource.not_found');
    return;
  }

  const title = t('conversation.heading', {
    kind: kindLabel(state.summary.kind),
    names: otherMemberNames(state.summary, ctx.user.id),
  });
  heading.textContent = title;
  ctx.setTitle(title);
  renderConversation(section, alert, state, ctx);
}

function renderConversation(section, alert, state, ctx) {
  const files = ctx.chat.files;
  const messages = new MessageList(state, files, (message) => ctx.chat.retry(state.id, message));
  const empty = h('p', { class: 'empty', text: t('conversation.empty') });
  const log = h(
    'div',
    {
      class: 'message-log',
      // tabindex lets keyboard users scroll the log.
      attrs: {
        role: 'log',
        'aria-labelledby': 'messages-heading',
        'aria-relevant': 'additions',
        tabindex: '0',
      },
    },
    empty,
    messages.list,
  );
  const compose = composer({
    conversationId: state.id,
    files,
    onSend: (body, fileIds) => Boolean(ctx.chat.send(state.id, body, fileIds)),
  });
  const call = callArea(ctx, state);
  section.append(
    call.element,
    scheduleArea(ctx, state.summary).element,
    h('h2', { id: 'messages-heading', class: 'visually-hidden', text: t('conversation.messages') }),
    log,
    compose.form,
  );
  // Letters come after the composer, so the keyboard path to the
  // composer stays as short in a contact link as in a discussion.
  const contactLink = state.summary.kind === 'contact_link';
  // A family writes letters in a contact link, and messages live only when
  // the agreement allows it; the server refuses anything else.
  const family = !(ctx.user.roles ?? []).some((role) => STAFF_ROLES.has(role));
  const onAgreement = (agreement) => {
    let closed = null;
    if (agreement && agreement.status !== 'active') closed = t('conversation.link_closed');
    else if (family && !agreement?.live_messages) closed = t('conversation.letters_only');
    compose.closeWith(closed);
  };
  const letters = contactLink ? lettersArea(ctx, state.summary, { onAgreement }) : null;
  if (letters) section.append(letters.element);
  const invitations =
    contactLink && isSupervisor(state.summary, ctx.user.id)
      ? invitationsArea(ctx, state.summary)
      : null;
  if (invitations) section.append(invitations.element);
  // Case notes are the organisation's record, which the families never see.
  if (invitations) section.append(caseNotesArea(ctx, state.summary).element);

  const nearBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < STICK_TO_BOTTOM_PX;
  const scrollToEnd = () => {
    log.scrollTop = log.scrollHeight;
  };
  const reportRead = () => {
    if (document.visibilityState === 'visible' && state.lastSeq > 0) {
      ctx.chat.markRead(state.id, state.lastSeq);
    }
  };
  const showRemoved = () => {
    alert.textContent = t('conversation.removed');
    compose.disable();
  };

  for (const message of state.orderedMessages()) messages.add(message);
  empty.hidden = messages.elements.size > 0;
  scrollToEnd();
  reportRead();
  if (state.removed) showRemoved();

  const onMessage = (event) => {
    const stick = nearBottom() || state.isMine(event.detail);
    messages.add(event.detail);
    empty.hidden = true;
    if (stick) scrollToEnd();
    reportRead();
  };
  const onChange = (event) => messages.update(event.detail);
  // A player or photo that replaces a progress bar makes the log taller.
  const onFile = (event) => {
    const stick = nearBottom();
    messages.updateFile(event.detail);
    if (stick) scrollToEnd();
  };
  const onProblem = (event) => {
    alert.textContent = errorText(event.detail.code);
  };
  state.addEventListener('message', onMessage);
  state.addEventListener('change', onChange);
  state.addEventListener('removed', showRemoved);
  files.addEventListener('change', onFile);
  ctx.chat.addEventListener('problem', onProblem);
  document.addEventListener('visibilitychange', reportRead);
  ctx.onCleanup(() => {
    state.removeEventListener('message', onMessage);
    state.removeEventListener('change', onChange);
    state.removeEventListener('removed', showRemoved);
    files.removeEventListener('change', onFile);
    ctx.chat.removeEventListener('problem', onProblem);
    compose.dispose();
    call.dispose();
    letters?.dispose();
    invitations?.dispose();
    document.removeEventListener('visibilitychange', reportRead);
  });
}
