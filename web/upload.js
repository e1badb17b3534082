// One file sent as a resumable upload: POST starts it, then PATCH requests
// send its bytes in chunks from the offset the server has stored. After a
// failed request the page requests the upload's status and continues from
// its offset, so a dropped connection costs at most one chunk.
// Once every byte is stored, the file's processing is followed through
// the page's FileTracker.

import { fetchUpload, NETWORK_ERROR, sendUploadBytes, startUpload } from './api.js';

// Segments per PATCH request. Every request but the last must send whole
// segments (64 KiB each), so a chunk is 4 MiB and the page can show
// progress between chunks as well as within one.
const SEGMENTS_PER_REQUEST = 64;

// Failed requests in a row, with no bytes stored between them, after which
// the upload stops and the user is asked to try again.
const MAX_FAILURES_IN_A_ROW = 6;
const FIRST_RETRY_DELAY_MS = 1_000;
const MAX_RETRY_DELAY_MS = 30_000;
// Used when a busy response has no Retry-After header.
const DEFAULT_BUSY_WAIT_SECONDS = 30;

// Error codes of failures that can pass: the connection, a server that is
// restarting, or a request that lost track of the server's offset.
const TRANSIENT_ERRORS = new Set([
  NETWORK_ERROR,
  'resource.conflict',
  'server.internal',
  'server.unavailable',
]);

/** Waits `ms` milliseconds, and rejects at once when `signal` aborts. */
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The upload of one file into a conversation. Event: `change` whenever
 * `state` or `sentBytes` changes. `state` is one of:
 * - `uploading`: bytes are being sent (`sentBytes` of `size`);
 * - `waiting`: a request failed or the server is busy, and it is tried
 *   again after a delay;
 * - `stored`: every byte is stored, so the file can be attached; its
 *   processing shows in `files.entry(id)`;
 * - `failed`: the file was rejected (`errorCode`, `errorField`) and
 *   trying again would not help;
 * - `interrupted`: requests kept failing (`errorCode`), and `resume()`
 *   tries again.
 */
export class Upload extends EventTarget {
  #controller = new AbortController();
  /** The latest view from the server, or null when it must be fetched. */
  #view = null;
  #running = false;

  constructor(file, conversationId, files) {
    super();
    this.file = file;
    this.conversationId = conversationId;
    this.files = files;
    /** The file id, known once the server has started the upload. */
    this.id = null;
    this.name = file.name;
    this.size = file.size;
    this.state = 'uploading';
    this.sentBytes = 0;
    this.errorCode = null;
    this.errorField = null;
  }

  /** Returns the share of bytes sent, as a whole percentage. */
  get percent() {
    if (this.size === 0) return 100;
    return Math.min(100, Math.floor((this.sentBytes * 100) / this.size));
  }

  start() {
    if (this.size === 0) {
      // The server rejects an empty upload by its size field, which would
      // read as "too large"; the file's own failure code is clearer.
      this.#set({ state: 'failed', errorCode: 'media.empty' });
      return;
    }
    this.#run();
  }

  /** Tries again after the upload was interrupted. */
  resume() {
    if (this.state === 'interrupted') this.#run();
  }

  /** Stops sending. The server deletes the unfinished upload when it expires. */
  abort() {
    this.#controller.abort();
  }

  async #run() {
    if (this.#running) return;
    this.#running = true;
    this.#set({ state: 'uploading', errorCode: null, errorField: null });
    const signal = this.#controller.signal;
    let failures = 0;
    let storedOffset = -1;
    try {
      for (;;) {
        let view;
        try {
          view = await this.#step();
        } catch (error) {
          if (signal.aborted) return;
          this.#view = null;
          if (error.code === 'server.busy') {
            // Every byte is stored, but the processing queue is full.
            this.#set({ state: 'waiting', errorCode: error.code });
            await sleep((error.retryAfterSeconds ?? DEFAULT_BUSY_WAIT_SECONDS) * 1000, signal);
            continue;
          }
          if (!TRANSIENT_ERRORS.has(error.code)) {
            console.warn(`upload of ${this.id ?? 'a new file'} was rejected`, error);
            this.#set({ state: 'failed', errorCode: error.code, errorField: error.field });
            return;
          }
          failures += 1;
          if (failures >= MAX_FAILURES_IN_A_ROW) {
            console.warn(`upload of ${this.id} stopped after ${failures} failed requests`, error);
            this.#set({ state: 'interrupted', errorCode: error.code });
            return;
          }
          console.info(`upload request of ${this.id} failed, trying again`, error);
          this.#set({ state: 'waiting', errorCode: error.code });
          const delay = Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** (failures - 1));
          await sleep(delay, signal);
          continue;
        }

        // Only stored bytes count as progress: a status request that works
        // between failing uploads does not.
        if (view.offset > storedOffset) {
          failures = 0;
          storedOffset = view.offset;
        }
        this.#view = view;
        if (view.status !== 'uploading') {
          this.#finish(view);
          return;
        }
        this.#set({ state: 'uploading', errorCode: null, sentBytes: view.offset });
      }
    } catch (error) {
      // Only an abort during a delay ends up here.
      if (!signal.aborted) throw error;
    } finally {
      this.#running = false;
    }
  }

  // Sends the next request and returns the view in its response: the
  // start, the status after a failure, or the next chunk. An empty chunk
  // at the end asks the server to check a fully stored file again, after
  // it was busy or stopped during the checks.
  async #step() {
    const signal = this.#controller.signal;
    if (this.id === null) {
      const view = await startUpload(this.conversationId, this.name, this.size);
      this.id = view.id;
      return view;
    }
    if (this.#view === null) return fetchUpload(this.id);

    const offset = this.#view.offset;
    const end = Math.min(this.size, offset + this.#view.segment_size * SEGMENTS_PER_REQUEST);
    return sendUploadBytes(this.id, offset, this.file.slice(offset, end), {
      signal,
      onProgress: (loaded) => {
        this.#set({ sentBytes: Math.min(this.size, offset + loaded) });
      },
    });
  }

  #finish(view) {
    this.files.record(view);
    if (view.status === 'failed') {
      this.#set({ state: 'failed', errorCode: view.failure ?? 'media.failed' });
    } else {
      this.#set({ state: 'stored', errorCode: null, sentBytes: this.size });
    }
  }

  #set(changes) {
    Object.assign(this, changes);
    this.dispatchEvent(new CustomEvent('change', { detail: this }));
  }
}
