// The page's record of stored files: each file's view from
// GET /uploads/{id}, brought up to date by `file` frames while the media
// workers process it. Message attachments and the composer's uploads both
// read from here, so a file is fetched once however often it is shown.
//
// Frames and fetched views can arrive in either order, so a file's status
// only moves forwards: uploading, then processing, then ready or failed.

import { fetchUpload } from './api.js';

const STATUS_RANK = { uploading: 0, processing: 1, ready: 2, failed: 2 };

// A processing file with no news for this long is fetched again. Frames
// missed while the socket was down leave it stale, and the server restarts
// processing that stopped (after two minutes without progress) when a
// member requests the file's status.
const STALE_AFTER_MS = 30_000;
const STALE_CHECK_INTERVAL_MS = 10_000;

/**
 * Creates the page's record of one file. `status` is null until something
 * is known, `progress` is the processing percentage, `view` the latest
 * fetched view (with renditions once ready), and `loadError` the error
 * code of a failed fetch.
 */
function makeEntry(id) {
  return {
    id,
    status: null,
    progress: null,
    failure: null,
    view: null,
    loadError: null,
    updatedAt: Date.now(),
  };
}

function rank(status) {
  return STATUS_RANK[status] ?? -1;
}

/**
 * Files by id. Event: `change` (detail: the entry) whenever a file's
 * status, progress or view changes.
 */
export class FileTracker extends EventTarget {
  #entries = new Map();
  /**
   * Ids whose view is being fetched, mapped to whether it must be fetched
   * again when that ends, because news arrived after the request went out.
   */
  #fetching = new Map();
  #staleTimer = null;
  #stopped = false;

  /** Returns the entry of `fileId`, fetching its view the first time. */
  track(fileId) {
    let entry = this.#entries.get(fileId);
    if (!entry) {
      entry = makeEntry(fileId);
      this.#entries.set(fileId, entry);
      this.#load(entry);
    }
    return entry;
  }

  /** Returns the entry of `fileId` without fetching anything, or null. */
  entry(fileId) {
    return this.#entries.get(fileId) ?? null;
  }

  /** Records a view the page already has, such as the response to an upload request. */
  record(view) {
    let entry = this.#entries.get(view.id);
    if (!entry) {
      entry = makeEntry(view.id);
      this.#entries.set(view.id, entry);
    }
    this.#applyView(entry, view);
  }

  /** Applies a `file` frame. Frames for files this page does not show are ignored. */
  applyFrame(frame) {
    const entry = this.#entries.get(frame.file_id);
    if (!entry || rank(frame.status) < rank(entry.status)) return;

    if (frame.status === 'ready') {
      // The frame has no renditions, so the view is fetched before the
      // file counts as ready. Until then it shows as fully processed.
      if (entry.status === 'ready' && entry.view?.status === 'ready') return;
      this.#update(entry, { status: 'processing', progress: 100 });
      this.#load(entry);
      return;
    }
    if (frame.status === 'processing') {
      const progress = Math.max(entry.progress ?? 0, frame.progress ?? 0);
      this.#update(entry, { status: 'processing', progress });
      return;
    }
    if (frame.status === 'failed') {
      this.#update(entry, { status: 'failed', failure: frame.failure ?? 'media.failed' });
    }
  }

  /** Fetches again every file still processing, as after a reconnect. */
  refreshProcessing() {
    for (const entry of this.#entries.values()) {
      if (entry.status === 'processing' || entry.loadError) this.#load(entry);
    }
  }

  /** Stops refreshing stale files for good, as on sign-out. */
  stop() {
    this.#stopped = true;
    this.#clearStaleTimer();
  }

  async #load(entry) {
    if (this.#fetching.has(entry.id)) {
      this.#fetching.set(entry.id, true);
      return;
    }
    this.#fetching.set(entry.id, false);
    try {
      const view = await fetchUpload(entry.id);
      this.#applyView(entry, view);
    } catch (error) {
      console.warn(`fetching file ${entry.id} failed`, error);
      this.#update(entry, { loadError: error.code ?? 'unknown' });
    } finally {
      const again = this.#fetching.get(entry.id);
      this.#fetching.delete(entry.id);
      if (again) this.#load(entry);
    }
  }

  #applyView(entry, view) {
    if (rank(view.status) < rank(entry.status)) return;
    const changes = { view, status: view.status, failure: view.failure ?? null, loadError: null };
    // A view carries no processing progress, so the frames' progress stays.
    if (view.status === 'processing' && entry.status !== 'processing') changes.progress = 0;
    if (view.status === 'ready') changes.progress = 100;
    this.#update(entry, changes);
  }

  #update(entry, changes) {
    Object.assign(entry, changes, { updatedAt: Date.now() });
    this.#watchStale();
    this.dispatchEvent(new CustomEvent('change', { detail: entry }));
  }

  // Runs the stale check only while some file is processing.
  #watchStale() {
    const processing = [...this.#entries.values()].some((entry) => entry.status === 'processing');
    if (processing && this.#staleTimer === null && !this.#stopped) {
      this.#staleTimer = setInterval(() => this.#refreshStale(), STALE_CHECK_INTERVAL_MS);
    } else if (!processing) {
      this.#clearStaleTimer();
    }
  }

  #clearStaleTimer() {
    clearInterval(this.#staleTimer);
    this.#staleTimer = null;
  }

  #refreshStale() {
    const now = Date.now();
    for (const entry of this.#entries.values()) {
      if (entry.status === 'processing' && now - entry.updatedAt > STALE_AFTER_MS) {
        this.#load(entry);
      }
    }
  }
}
