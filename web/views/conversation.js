// One conversation: its history, live messages, read ticks on my own
// messages, and the composer. Read receipts go out for what is displayed
// while the page is visible.

import { fetchConversations } from '../api.js';
import { h } from '../dom.js';
import { formatTime } from '../format.js';
import { errorText, t } from '../i18n.js';
import {
  alertRegion,
  describeError,
  kindLabel,
  otherMemberNames,
  pageHeading,
  statusRegion,
} from './common.js';

// Distance from the end of the log, in CSS pixels, within which a new message
// scrolls the log down. A reader scrolled further up keeps their place.
const STICK_TO_BOTTOM_PX = 80;

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
  constructor(state, onRetry) {
    this.state = state;
    this.onRetry = onRetry;
    this.elements = new Map();
    this.list = h('ol', { class: 'message-list' });
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
      h('p', { class: 'message__body', text: message.body }),
    ];
    if (this.state.isMine(message)) children.push(this.#statusLine(message));
    element.replaceChildren(...children);
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

function composer(onSend) {
  const textarea = h('textarea', {
    id: 'composer-input',
    name: 'body',
    rows: 3,
    class: 'composer__input',
    attrs: { 'aria-describedby': 'composer-hint' },
  });
  const button = h('button', { type: 'submit', class: 'button', text: t('conversation.send') });
  const form = h(
    'form',
    { class: 'composer' },
    h('label', {
      htmlFor: 'composer-input',
      class: 'field__label',
      text: t('conversation.composer_label'),
    }),
    h('p', { id: 'composer-hint', class: 'field__hint', text: t('conversation.composer_hint') }),
    textarea,
    h('div', { class: 'composer__actions' }, button),
  );

  function submit() {
    const body = textarea.value;
    if (!body.trim()) return;
    if (onSend(body)) textarea.value = '';
    textarea.focus();
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
  });
  textarea.addEventListener('keydown', (event) => {
    // isComposing: Enter also confirms input-method candidates (Japanese, Chinese).
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    submit();
  });
  return { form, textarea, button };
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
  const messages = new MessageList(state, (message) => ctx.chat.retry(state.id, message));
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
  const { form, textarea, button } = composer((body) => Boolean(ctx.chat.send(state.id, body)));
  section.append(
    h('h2', { id: 'messages-heading', class: 'visually-hidden', text: t('conversation.messages') }),
    log,
    form,
  );

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
    textarea.disabled = true;
    button.disabled = true;
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
  const onProblem = (event) => {
    alert.textContent = errorText(event.detail.code);
  };
  state.addEventListener('message', onMessage);
  state.addEventListener('change', onChange);
  state.addEventListener('removed', showRemoved);
  ctx.chat.addEventListener('problem', onProblem);
  document.addEventListener('visibilitychange', reportRead);
  ctx.onCleanup(() => {
    state.removeEventListener('message', onMessage);
    state.removeEventListener('change', onChange);
    state.removeEventListener('removed', showRemoved);
    ctx.chat.removeEventListener('problem', onProblem);
    document.removeEventListener('visibilitychange', reportRead);
  });
}
