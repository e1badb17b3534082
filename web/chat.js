// Conversation state for the signed-in user, kept in memory only: messages
// by sequence number, messages still waiting for their `ack`, and how far
// each member has read. It speaks the WebSocket protocol through a
// LiveConnection and survives reconnects:
//
// - After each (re)connect it subscribes to every conversation opened so
//   far with `after` = the highest sequence number seen, so the server
//   sends exactly what was missed. Frames are deduplicated by `seq` all the
//   same, because history loaded over HTTP can overlap the live stream.
// - Messages not yet acknowledged are sent again with the same
//   `message_id`, which the server stores only once.
//
// Files attached to messages are followed by a FileTracker, which the
// `file` frames keep up to date. Live call frames are passed on as events
// to the CallClient of calls.js, and the newest `call` frame of each
// conversation is kept, so a page opened later shows a call already live.
// Community groups that a page follows are followed again after each
// reconnect, and their `community` frames become events.

import { fetchMessages } from './api.js';
import { FileTracker } from './files.js';
import { LiveConnection } from './live.js';

const HISTORY_PAGE_SIZE = 500;
const BUSY_RETRY_DELAY_MS = 1_000;

/**
 * Creates one message as the page shows it. `seq` is null until the server
 * acknowledges it, `status` is 'sending', 'sent' or 'failed', and
 * `attachments` lists file ids.
 */
function makeMessage(fields) {
  return {
    seq: null,
    message_id: null,
    sender_id: null,
    body: '',
    attachments: [],
    sent_at: null,
    status: 'sent',
    readByOthers: false,
    errorCode: null,
    errorField: null,
    ...fields,
  };
}

/**
 * One conversation. Events: `message` (a message appeared), `change` (a
 * message's seq, status or read state changed) and `removed`.
 */
export class ConversationState extends EventTarget {
  constructor(summary, myUserId) {
    super();
    this.id = summary.id;
    this.myUserId = myUserId;
    this.summary = summary;
    /** Messages with a sequence number, by seq. */
    this.bySeq = new Map();
    /** Every message shown, by message_id, including unacknowledged ones. */
    this.byMessageId = new Map();
    /** My messages awaiting `ack`, in the order they were written. */
    this.outbox = [];
    /** Highest seq received from history or `message` frames. */
    this.lastSeq = 0;
    /** Highest seq other members have read, over all of them. */
    this.othersReadSeq = 0;
    /** Highest seq I have read, as last sent to the server. */
    this.myReadSeq = summary.read_seq ?? 0;
    /** Highest seq I have displayed but not yet reported as read. */
    this.unreportedReadSeq = 0;
    this.historyLoaded = false;
    this.removed = false;
  }

  updateSummary(summary) {
    this.summary = summary;
    this.myReadSeq = Math.max(this.myReadSeq, summary.read_seq ?? 0);
  }

  /** Messages in display order: by seq, then unacknowledged ones as written. */
  orderedMessages() {
    const stored = [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
    const waiting = this.outbox.filter((message) => message.seq === null);
    const failed = [...this.byMessageId.values()].filter(
      (message) => message.status === 'failed' && !waiting.includes(message),
    );
    return [...stored, ...waiting, ...failed];
  }

  isMine(message) {
    return message.sender_id === this.myUserId;
  }

  /** Returns whether another member's message lies after my read position, up to `seq`. */
  hasUnreadFromOthers(seq) {
    for (const message of this.bySeq.values()) {
      if (message.seq > this.myReadSeq && message.seq <= seq && !this.isMine(message)) return true;
    }
    return false;
  }

  isReadByOthers(message) {
    return message.seq !== null && (message.readByOthers || message.seq <= this.othersReadSeq);
  }

  /** Adds a stored message from history or a `message` frame, ignoring repeats. */
  addStored(fields) {
    this.lastSeq = Math.max(this.lastSeq, fields.seq);
    if (this.bySeq.has(fields.seq)) return;

    const waiting = this.byMessageId.get(fields.message_id);
    if (waiting) {
      this.#settle(waiting, fields.seq, fields.sent_at);
      return;
    }

    const message = makeMessage({
      seq: fields.seq,
      message_id: fields.message_id,
      sender_id: fields.sender_id,
      body: fields.body,
      attachments: fields.attachments ?? [],
      sent_at: fields.sent_at,
      readByOthers: Boolean(fields.read_by_others),
    });
    this.bySeq.set(message.seq, message);
    this.byMessageId.set(message.message_id, message);
    this.dispatchEvent(new CustomEvent('message', { detail: message }));
  }

  /** Queues a new message of mine, with the ids of files to attach, and returns it. */
  addOutgoing(body, attachments = []) {
    const message = makeMessage({
      message_id: crypto.randomUUID(),
      sender_id: this.myUserId,
      body,
      attachments,
      status: 'sending',
    });
    this.outbox.push(message);
    this.byMessageId.set(message.message_id, message);
    this.dispatchEvent(new CustomEvent('message', { detail: message }));
    return message;
  }

  acknowledge(messageId, seq, sentAt) {
    const message = this.byMessageId.get(messageId);
    if (message && message.seq === null) this.#settle(message, seq, sentAt);
  }

  #settle(message, seq, sentAt) {
    message.seq = seq;
    message.sent_at = sentAt ?? message.sent_at;
    message.status = 'sent';
    message.errorCode = null;
    this.outbox = this.outbox.filter((waiting) => waiting !== message);
    this.bySeq.set(seq, message);
    this.dispatchEvent(new CustomEvent('change', { detail: message }));
  }

  fail(messageId, code, field) {
    const message = this.byMessageId.get(messageId);
    if (!message || message.seq !== null) return;
    message.status = 'failed';
    message.errorCode = code;
    message.errorField = field ?? null;
    this.outbox = this.outbox.filter((waiting) => waiting !== message);
    this.dispatchEvent(new CustomEvent('change', { detail: message }));
  }

  /** Puts a failed message back in the outbox, keeping its message_id. */
  requeue(message) {
    if (message.status !== 'failed') return;
    message.status = 'sending';
    message.errorCode = null;
    this.outbox.push(message);
    this.dispatchEvent(new CustomEvent('change', { detail: message }));
  }

  /** Records that `userId` has read up to `upTo`. */
  recordRead(userId, upTo) {
    if (userId === this.myUserId) {
      this.myReadSeq = Math.max(this.myReadSeq, upTo);
      return;
    }
    if (upTo <= this.othersReadSeq) return;
    this.othersReadSeq = upTo;
    for (const message of this.bySeq.values()) {
      if (this.isMine(message) && message.seq <= upTo) {
        this.dispatchEvent(new CustomEvent('change', { detail: message }));
      }
    }
  }

  markRemoved() {
    this.removed = true;
    this.dispatchEvent(new Event('removed'));
  }
}

/** Error codes that only call frames get, which go to the call and not to the page. */
const CALL_ERROR_CODES = new Set([
  'call.unknown',
  'call.not_admitted',
  'call.removed',
  'call.invalid_sdp',
  'call.media_failed',
  'call.throttled',
  'request.forbidden',
]);

/**
 * All conversations of the signed-in user plus the live connection. Events:
 * `status` (the connection status), `open` (the socket opened and
 * the subscriptions are sent), `problem` (detail: { code }) for an error
 * frame that no sent message explains, `letters` (detail: { conversationId })
 * when a contact link's letters or agreement changed, `call` (detail: the
 * call as in the `call` frame), `call_answer` (detail: the frame),
 * `call_error` (detail: the error frame of a call frame) and `community`
 * (detail: { groupId, topicId }) when something changed in a community
 * group that a page follows.
 */
export class Chat extends EventTarget {
  /** @type {Map<string, ConversationState>} */
  #conversations = new Map();
  /** Conversations subscribed to, re-subscribed after every reconnect. */
  #subscribed = new Set();
  #connection;
  #user;
  #files = new FileTracker();
  /** The newest `call` frame's call of each conversation, by conversation id. */
  #calls = new Map();
  /** Community groups followed, each with the count of pages that follow it. */
  #communityGroups = new Map();

  constructor(user, { sessionIsValid }) {
    super();
    this.#user = user;
    this.#connection = new LiveConnection({ sessionIsValid });
    this.#connection.addEventListener('open', () => this.#onOpen());
    this.#connection.addEventListener('frame', (event) => this.#onFrame(event.detail));
    this.#connection.addEventListener('status', (event) => {
      this.dispatchEvent(new CustomEvent('status', { detail: event.detail }));
    });
  }

  get user() {
    return this.#user;
  }

  get connectionStatus() {
    return this.#connection.status;
  }

  /** The files shown or uploaded by this page. */
  get files() {
    return this.#files;
  }

  start() {
    this.#connection.start();
  }

  stop() {
    this.#connection.stop();
    this.#files.stop();
  }

  /** Records the conversation list from GET /conversations. */
  updateSummaries(summaries) {
    for (const summary of summaries) {
      const existing = this.#conversations.get(summary.id);
      if (existing) existing.updateSummary(summary);
      else this.#conversations.set(summary.id, new ConversationState(summary, this.#user.id));
    }
  }

  conversation(conversationId) {
    return this.#conversations.get(conversationId) ?? null;
  }

  /** Returns the call of the newest `call` frame of a conversation, or null. */
  callOf(conversationId) {
    return this.#calls.get(conversationId) ?? null;
  }

  /** Sends a call frame if connected, and returns false when the socket is not open. */
  sendCall(frame) {
    return this.#connection.send(frame);
  }

  /** Loads the history of a conversation once, then subscribes to it. */
  async open(conversationId) {
    const state = this.conversation(conversationId);
    if (!state) return null;
    if (!state.historyLoaded) {
      await this.#loadHistory(state);
      state.historyLoaded = true;
    }
    if (!this.#subscribed.has(conversationId) && !state.removed) {
      this.#subscribed.add(conversationId);
      this.#subscribe(state);
    }
    return state;
  }

  /**
   * Subscribes to a conversation without loading its history, so that its
   * `letters` and `message` frames arrive while another page is open. The
   * subscription starts after the summary's `last_seq`, and `open` loads
   * the history before that later.
   */
  watch(conversationId) {
    const state = this.conversation(conversationId);
    if (!state || state.removed || this.#subscribed.has(conversationId)) return;
    state.lastSeq = Math.max(state.lastSeq, state.summary.last_seq ?? 0);
    this.#subscribed.add(conversationId);
    this.#subscribe(state);
  }

  // Starts from the beginning rather than from `lastSeq`, which `watch`
  // may have moved past messages not loaded yet. Repeats are ignored by seq.
  async #loadHistory(state) {
    let after = 0;
    for (;;) {
      const page = await fetchMessages(state.id, after, HISTORY_PAGE_SIZE);
      for (const [userId, seq] of Object.entries(page.read_seq_by_member ?? {})) {
        state.recordRead(userId, seq);
      }
      for (const message of page.messages) {
        state.addStored(message);
        after = Math.max(after, message.seq);
      }
      if (page.messages.length < HISTORY_PAGE_SIZE) return;
    }
  }

  #subscribe(state) {
    this.#connection.send({ type: 'subscribe', conversation_id: state.id, after: state.lastSeq });
  }

  /**
   * Queues `body` in a conversation and sends it if connected. `attachments`
   * lists ids of my uploads to this conversation whose every byte is stored.
   */
  send(conversationId, body, attachments = []) {
    const state = this.conversation(conversationId);
    if (!state || state.removed) return null;
    const message = state.addOutgoing(body, attachments);
    this.#sendMessage(state, message);
    return message;
  }

  retry(conversationId, message) {
    const state = this.conversation(conversationId);
    if (!state || state.removed) return;
    state.requeue(message);
    this.#sendMessage(state, message);
  }

  #sendMessage(state, message) {
    const frame = {
      type: 'send',
      conversation_id: state.id,
      message_id: message.message_id,
      body: message.body,
    };
    if (message.attachments.length > 0) frame.attachments = message.attachments;
    this.#connection.send(frame);
  }

  /**
   * Tells the server I have read up to `seq`, now or after reconnecting.
   * Nothing is sent when the only new messages are my own, because they
   * never count as unread and each report is a database write.
   */
  markRead(conversationId, seq) {
    const state = this.conversation(conversationId);
    if (!state || seq <= state.myReadSeq) return;
    if (!state.hasUnreadFromOthers(seq)) return;
    state.unreportedReadSeq = Math.max(state.unreportedReadSeq, seq);
    this.#flushRead(state);
  }

  #flushRead(state) {
    const upTo = state.unreportedReadSeq;
    if (upTo <= state.myReadSeq) return;
    const sent = this.#connection.send({ type: 'read', conversation_id: state.id, up_to: upTo });
    if (sent) state.myReadSeq = upTo;
  }

  /**
   * Starts live updates of a community group, now or once connected, and
   * again after every reconnect. Each call needs its own `unfollowCommunity`.
   */
  followCommunity(groupId) {
    const count = this.#communityGroups.get(groupId) ?? 0;
    this.#communityGroups.set(groupId, count + 1);
    if (count === 0) this.#connection.send({ type: 'community_follow', group_id: groupId });
  }

  unfollowCommunity(groupId) {
    const count = this.#communityGroups.get(groupId) ?? 0;
    if (count > 1) {
      this.#communityGroups.set(groupId, count - 1);
      return;
    }
    if (count === 0) return;
    this.#communityGroups.delete(groupId);
    this.#connection.send({ type: 'community_unfollow', group_id: groupId });
  }

  #onOpen() {
    for (const groupId of this.#communityGroups.keys()) {
      this.#connection.send({ type: 'community_follow', group_id: groupId });
    }
    for (const conversationId of this.#subscribed) {
      const state = this.conversation(conversationId);
      this.#subscribe(state);
      for (const message of state.outbox) this.#sendMessage(state, message);
      this.#flushRead(state);
    }
    // File frames sent while the socket was down are not sent again.
    this.#files.refreshProcessing();
    this.dispatchEvent(new Event('open'));
  }

  #onFrame(frame) {
    const state = frame.conversation_id ? this.conversation(frame.conversation_id) : null;
    switch (frame.type) {
      case 'message':
        state?.addStored(frame);
        break;
      case 'ack':
        state?.acknowledge(frame.message_id, frame.seq, frame.sent_at);
        break;
      case 'read':
        state?.recordRead(frame.user_id, frame.up_to);
        break;
      case 'removed':
        this.#subscribed.delete(frame.conversation_id);
        state?.markRemoved();
        break;
      case 'file':
        this.#files.applyFrame(frame);
        break;
      case 'letters':
        this.dispatchEvent(
          new CustomEvent('letters', { detail: { conversationId: frame.conversation_id } }),
        );
        break;
      case 'call':
        this.#onCall(frame.call);
        break;
      case 'community':
        this.dispatchEvent(
          new CustomEvent('community', {
            detail: { groupId: frame.group_id, topicId: frame.topic_id ?? null },
          }),
        );
        break;
      case 'call_answer':
        this.dispatchEvent(new CustomEvent('call_answer', { detail: frame }));
        break;
      case 'error':
        this.#onErrorFrame(frame);
        break;
      default:
        console.warn(`live connection received an unknown frame type ${frame.type}`);
    }
  }

  #onCall(call) {
    if (!call?.conversation_id) return;
    // An ended call stays ended: a `call` frame sent before the end may
    // arrive after it, because the reply to a call frame and the frame to
    // every member travel separately.
    const known = this.#calls.get(call.conversation_id);
    if (known?.call_id === call.call_id && known.status === 'ended') return;
    this.#calls.set(call.conversation_id, call);
    this.dispatchEvent(new CustomEvent('call', { detail: call }));
  }

  #onErrorFrame(frame) {
    console.warn(`server reported ${frame.code}: ${frame.message}`);
    if (!frame.ref && CALL_ERROR_CODES.has(frame.code)) {
      this.dispatchEvent(new CustomEvent('call_error', { detail: frame }));
      return;
    }
    const owner = frame.ref ? this.#findOutgoing(frame.ref) : null;
    if (!owner) {
      this.dispatchEvent(new CustomEvent('problem', { detail: { code: frame.code } }));
      return;
    }

    const { state, message } = owner;
    if (frame.code === 'server.busy') {
      // Nothing was stored, so the same message_id is safe to send again.
      setTimeout(() => this.#sendMessage(state, message), BUSY_RETRY_DELAY_MS);
      return;
    }
    state.fail(message.message_id, frame.code, fieldOf(frame));
  }

  #findOutgoing(messageId) {
    for (const state of this.#conversations.values()) {
      const message = state.byMessageId.get(messageId);
      if (message && message.seq === null) return { state, message };
    }
    return null;
  }
}

// Error frames name the field only inside `message`. A user can fix `body`
// by shortening the text, and `attachments` by uploading the file again.
function fieldOf(frame) {
  if (frame.code !== 'request.invalid_field') return null;
  const message = frame.message ?? '';
  if (/\bbody\b/.test(message)) return 'body';
  if (/\battachments\b/.test(message)) return 'attachments';
  return null;
}
