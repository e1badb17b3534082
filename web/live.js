// WebSocket transport for /api/v1/ws: connects, parses frames, and
// reconnects with exponential backoff. What to send after each (re)connect
// (subscriptions, unacknowledged messages) is the chat model's job, which
// listens for the `open` event.
//
// Events:
// - `open`: the socket is ready to send.
// - `frame` (detail: parsed JSON object): a frame from the server.
// - `status` (detail: 'connecting' | 'open' | 'reconnecting' | 'stopped').

const FIRST_RETRY_DELAY_MS = 500;
const MAX_RETRY_DELAY_MS = 10_000;

export class LiveConnection extends EventTarget {
  /** The open or opening socket, or null between attempts. */
  #socket = null;
  /** Count of failed attempts since the last successful open, which sets the next delay. */
  #attempt = 0;
  #retryTimer = null;
  #stopped = true;
  #status = 'stopped';
  /** Returns false when the session has ended, so reconnecting is pointless. */
  #sessionIsValid;
  #onOnline = () => this.#reconnectNow();
  #onOffline = () => this.#dropSocket();

  constructor({ sessionIsValid }) {
    super();
    this.#sessionIsValid = sessionIsValid;
  }

  get status() {
    return this.#status;
  }

  get isOpen() {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  start() {
    if (!this.#stopped) return;
    this.#stopped = false;
    window.addEventListener('online', this.#onOnline);
    window.addEventListener('offline', this.#onOffline);
    this.#connect();
  }

  /** Closes the socket for good, as on sign-out. */
  stop() {
    this.#stopped = true;
    window.removeEventListener('online', this.#onOnline);
    window.removeEventListener('offline', this.#onOffline);
    clearTimeout(this.#retryTimer);
    const socket = this.#socket;
    this.#socket = null;
    socket?.close(1000);
    this.#setStatus('stopped');
  }

  /** Sends `frame` if the socket is open, and returns false when it is not. */
  send(frame) {
    if (!this.isOpen) return false;
    this.#socket.send(JSON.stringify(frame));
    return true;
  }

  #connect() {
    if (this.#stopped) return;

    // An offline browser cannot connect, so the `online` event starts the next attempt.
    if (!navigator.onLine) {
      this.#setStatus('reconnecting');
      return;
    }

    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${location.host}/api/v1/ws`);
    this.#socket = socket;
    if (this.#status !== 'reconnecting') this.#setStatus('connecting');

    socket.addEventListener('open', () => {
      if (socket !== this.#socket) return;
      this.#attempt = 0;
      this.#setStatus('open');
      this.dispatchEvent(new Event('open'));
    });
    socket.addEventListener('message', (event) => {
      if (socket !== this.#socket) return;
      this.#receive(event.data);
    });
    socket.addEventListener('close', (event) => {
      if (socket !== this.#socket) return;
      console.info(`live connection closed with code ${event.code}`, event.reason);
      this.#socket = null;
      this.#scheduleReconnect();
    });
  }

  #receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch (error) {
      console.warn('live connection received a frame that is not JSON', error);
      return;
    }
    if (frame && typeof frame.type === 'string') {
      this.dispatchEvent(new CustomEvent('frame', { detail: frame }));
    }
  }

  // Closes the current socket at once, without waiting for the closing
  // handshake that a lost network would never finish.
  #dropSocket() {
    if (this.#stopped) return;
    const socket = this.#socket;
    this.#socket = null;
    if (socket) socket.close();
    this.#scheduleReconnect();
  }

  #reconnectNow() {
    if (this.#stopped || this.#socket) return;
    clearTimeout(this.#retryTimer);
    this.#attempt = 0;
    this.#connect();
  }

  #scheduleReconnect() {
    if (this.#stopped) return;
    this.#setStatus('reconnecting');
    clearTimeout(this.#retryTimer);

    // Jitter of up to a quarter spreads reconnects after a server restart.
    const base = Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** this.#attempt);
    const delay = base * (0.75 + Math.random() * 0.25);
    this.#attempt += 1;
    this.#retryTimer = setTimeout(() => this.#retry(), delay);
  }

  async #retry() {
    if (this.#stopped || this.#socket) return;

    // A browser cannot see why an upgrade failed, so ask the API whether the
    // session still exists before trying again.
    const valid = await this.#sessionIsValid();
    if (!valid || this.#stopped || this.#socket) return;
    this.#connect();
  }

  #setStatus(status) {
    if (status === this.#status) return;
    this.#status = status;
    this.dispatchEvent(new CustomEvent('status', { detail: status }));
  }
}
