// HTTP client for the JSON API under /api/v1. Every failure becomes an
// ApiError whose `code` is a protocol error code, so views show catalogue
// text and never the server's own `message`.

const API_ROOT = '/api/v1';

/** Code used when the request never got a response (offline, server down). */
export const NETWORK_ERROR = 'network';

export class ApiError extends Error {
  constructor({ status, code, field, requestId, retryAfterSeconds, detail }) {
    super(`${code} (HTTP ${status})${detail ? `: ${detail}` : ''}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field ?? null;
    this.requestId = requestId ?? null;
    this.retryAfterSeconds = retryAfterSeconds ?? null;
    /** The server's `message`, for logs and for finding the value it names, never shown. */
    this.detail = detail ?? null;
  }
}

let unauthorisedHandler = null;

/**
 * Registers `handler`, called with the error whenever a response has code
 * `auth.required`, so the page can return to sign-in from anywhere.
 */
export function onUnauthorised(handler) {
  unauthorisedHandler = handler;
}

/**
 * Sends a request under /api/v1 with `body`, when given, as JSON, and
 * returns the parsed JSON response, or null for `204`. Rejects with an
 * ApiError.
 */
export function request(method, path, body, headers = {}) {
  const init = { method, credentials: 'same-origin', cache: 'no-store', headers: { ...headers } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return send(path, init);
}

/**
 * Sends `text` as the body of a request with the media type `contentType`,
 * such as `text/csv`, and returns the response as `request` does.
 */
export function requestText(method, path, text, contentType) {
  return send(path, {
    method,
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { 'Content-Type': contentType },
    body: text,
  });
}

async function send(path, init) {
  let response;
  try {
    response = await fetch(API_ROOT + path, init);
  } catch (cause) {
    throw new ApiError({ status: 0, code: NETWORK_ERROR, detail: String(cause) });
  }

  if (response.status === 204) return null;
  const payload = parseJson(await response.text());
  if (response.ok) return payload;
  throw failure(response.status, payload, (name) => response.headers.get(name));
}

function parseJson(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// Builds the ApiError of an error response, and calls the unauthorised
// handler when the session has ended. `header` reads a response header.
function failure(status, payload, header) {
  const error = new ApiError({
    status,
    code: payload?.code ?? (status >= 500 ? 'server.internal' : 'unknown'),
    field: payload?.field,
    requestId: header('X-Request-Id'),
    retryAfterSeconds: parseRetryAfter(header('Retry-After')),
    detail: payload?.message,
  });
  if (error.code === 'auth.required' && unauthorisedHandler) unauthorisedHandler(error);
  return error;
}

// Retry-After is either a number of seconds or an HTTP date.
function parseRetryAfter(value) {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.round((date - Date.now()) / 1000));
}

/** Signs in. `secondFactor` is `{ totp_code }`, `{ recovery_code }` or empty. */
export function signIn(email, password, secondFactor = {}) {
  return request('POST', '/auth/sign-in', { email, password, ...secondFactor });
}

export function signOut() {
  return request('POST', '/auth/sign-out');
}

export function fetchMe() {
  return request('GET', '/me');
}

export function fetchSessions() {
  return request('GET', '/sessions');
}

export function revokeSession(sessionId) {
  return request('DELETE', `/sessions/${encodeURIComponent(sessionId)}`);
}

export function fetchConversations() {
  return request('GET', '/conversations');
}

export function fetchMessages(conversationId, after, limit) {
  const query = new URLSearchParams({ after: String(after), limit: String(limit) });
  return request('GET', `/conversations/${encodeURIComponent(conversationId)}/messages?${query}`);
}

export function markRead(conversationId, upTo) {
  return request('POST', `/conversations/${encodeURIComponent(conversationId)}/read`, {
    up_to: upTo,
  });
}

/** Starts a resumable upload of `size` bytes into a conversation and returns its view. */
export function startUpload(conversationId, name, size) {
  return request('POST', `/conversations/${encodeURIComponent(conversationId)}/uploads`, {
    name,
    size,
  });
}

/** Returns the view of an upload or a stored file. */
export function fetchUpload(fileId) {
  return request('GET', `/uploads/${encodeURIComponent(fileId)}`);
}

/** Returns the address of a stored file's content, as a download when `download` is set. */
export function fileUrl(fileId, { download = false } = {}) {
  const url = `${API_ROOT}/files/${encodeURIComponent(fileId)}`;
  return download ? `${url}?download=true` : url;
}

/**
 * Sends `bytes` (a Blob, empty to ask the server to check a fully stored
 * upload again) of an upload, starting at `offset`, and returns the view.
 * `onProgress` receives the count of bytes of this request sent so far.
 * Aborting `signal` cancels the request and rejects with an AbortError.
 *
 * This uses XMLHttpRequest, because fetch reports no upload progress.
 */
export function sendUploadBytes(fileId, offset, bytes, { onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open('PATCH', `${API_ROOT}/uploads/${encodeURIComponent(fileId)}`);
    xhr.setRequestHeader('Upload-Offset', String(offset));
    xhr.setRequestHeader('Content-Type', 'application/offset+octet-stream');
    const onAbort = () => xhr.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = () => signal?.removeEventListener('abort', onAbort);

    if (onProgress) xhr.upload.addEventListener('progress', (event) => onProgress(event.loaded));
    xhr.addEventListener('load', () => {
      settle();
      const payload = parseJson(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) resolve(payload);
      else reject(failure(xhr.status, payload, (name) => xhr.getResponseHeader(name)));
    });
    xhr.addEventListener('error', () => {
      settle();
      reject(new ApiError({ status: 0, code: NETWORK_ERROR, detail: 'upload request failed' }));
    });
    xhr.addEventListener('abort', () => {
      settle();
      reject(signal?.reason ?? new DOMException('upload request aborted', 'AbortError'));
    });
    xhr.send(bytes);
  });
}

/** Returns the link's contact agreement; a link with none yet rejects with `resource.not_found`. */
export function fetchAgreement(conversationId) {
  return request('GET', `/conversations/${encodeURIComponent(conversationId)}/agreement`);
}

/**
 * Stores the whole agreement of a contact link and returns it as stored.
 * `agreement` is `{ review_level, read_receipts, schedule, media, parties,
 * protected_terms }`, each party without its `display_name`.
 */
export function saveAgreement(conversationId, agreement) {
  return request(
    'PUT',
    `/conversations/${encodeURIComponent(conversationId)}/agreement`,
    agreement,
  );
}

/**
 * Suspends, ends or makes active again a contact link (`status` is
 * `suspended`, `ended` or `active`) and returns the agreement. `reason`,
 * which the families see, is required for the first two; null leaves it out.
 */
export function setAgreementStatus(conversationId, status, reason) {
  const body = reason ? { status, reason } : { status };
  return request(
    'POST',
    `/conversations/${encodeURIComponent(conversationId)}/agreement/status`,
    body,
  );
}

/** Returns the letters of a contact link that I may see, newest first. */
export function fetchLetters(conversationId) {
  return request('GET', `/conversations/${encodeURIComponent(conversationId)}/letters`);
}

/** Starts a draft letter in a contact link and returns it. */
export function startLetter(conversationId, body = '', attachments = []) {
  return request('POST', `/conversations/${encodeURIComponent(conversationId)}/letters`, {
    body,
    attachments,
  });
}

export function fetchLetter(letterId) {
  return request('GET', `/letters/${encodeURIComponent(letterId)}`);
}

/** Saves the writer's draft and returns the letter with fresh findings. */
export function saveLetter(letterId, body, attachments) {
  return request('PUT', `/letters/${encodeURIComponent(letterId)}`, { body, attachments });
}

export function submitLetter(letterId) {
  return request('POST', `/letters/${encodeURIComponent(letterId)}/submit`);
}

/**
 * Records the supervisor's decision on a submitted letter: `release`,
 * `return` or `hold`. `reason` is required for the last two.
 */
export function decideLetter(letterId, decision, reason) {
  const body = reason ? { decision, reason } : { decision };
  return request('POST', `/letters/${encodeURIComponent(letterId)}/decision`, body);
}

/** Records that I opened a released letter from the other side. */
export function markLetterRead(letterId) {
  return request('POST', `/letters/${encodeURIComponent(letterId)}/read`);
}

/** Returns every step of every letter of a contact link, oldest first. */
export function fetchLetterTimeline(conversationId) {
  return request('GET', `/conversations/${encodeURIComponent(conversationId)}/timeline`);
}

/** Returns the case notes of a contact link, oldest first, for its supervisor. */
export function fetchCaseNotes(conversationId) {
  return request('GET', `/conversations/${encodeURIComponent(conversationId)}/notes`);
}

/** Adds a case note to a contact link and returns it. */
export function addCaseNote(conversationId, body) {
  return request('POST', `/conversations/${encodeURIComponent(conversationId)}/notes`, { body });
}

/** Returns the video sessions arranged in a conversation, soonest first. */
export function fetchScheduledCalls(conversationId) {
  return request('GET', `/conversations/${encodeURIComponent(conversationId)}/scheduled-calls`);
}

/** Arranges a video session starting at `startsAt` (RFC 3339) and returns it. */
export function scheduleCall(conversationId, startsAt) {
  return request('POST', `/conversations/${encodeURIComponent(conversationId)}/scheduled-calls`, {
    starts_at: startsAt,
  });
}

/** Cancels an arranged video session. */
export function cancelScheduledCall(conversationId, scheduledId) {
  return request(
    'DELETE',
    `/conversations/${encodeURIComponent(conversationId)}/scheduled-calls/${encodeURIComponent(scheduledId)}`,
  );
}

/** Returns the submitted letters waiting in the links I supervise, oldest first. */
export function fetchReviewQueue() {
  return request('GET', '/review-queue');
}

/** Returns the exchanges due soon, due or overdue in the links I supervise, soonest first. */
export function fetchExchanges() {
  return request('GET', '/exchanges');
}

export function fetchNotificationPreferences() {
  return request('GET', '/me/notifications');
}

/** Stores `{ delivery, digest_hour, time_zone, marketing }` and returns what was stored. */
export function saveNotificationPreferences(preferences) {
  return request('PUT', '/me/notifications', preferences);
}

/** Returns the invitations of a contact link, newest first, for its supervisor. */
export function fetchInvitations(conversationId) {
  return request('GET', `/conversations/${encodeURIComponent(conversationId)}/invitations`);
}

/**
 * Invites someone into a contact link by email and returns the invitation.
 * `invitation` is `{ email, display_name, side, relationship }`.
 */
export function createInvitation(conversationId, invitation) {
  return request(
    'POST',
    `/conversations/${encodeURIComponent(conversationId)}/invitations`,
    invitation,
  );
}

/**
 * Returns `{ display_name, expires_at, kind }` of the invitation a link
 * token opens, unused. `kind` is `contact_link` or `worker`, and a worker
 * invitation also has `organisation_name` and `role`.
 */
export function openInvitation(token) {
  return request('POST', '/invitations/open', { token });
}

/**
 * Offers a new authenticator key for a worker invitation and returns
 * `{ secret, account_name, issuer }`, the secret in base32. The key offered
 * before stops working.
 */
export function enrolInvitation(token) {
  return request('POST', '/invitations/enrol', { token });
}

/**
 * Uses an invitation link: creates the invited person's pending account
 * with `password` and their choice of news email (`marketing`, a boolean).
 * A worker invitation needs `totpCode`, the authenticator's current code,
 * and the response then contains the account's `recovery_codes`.
 */
export function acceptInvitation(token, password, marketing, totpCode = null) {
  const body = { token, password, marketing };
  if (totpCode !== null) body.totp_code = totpCode;
  return request('POST', '/invitations/accept', body);
}

/**
 * Returns `{ email, second_factor }` of the account an account recovery
 * link restores; no session needed. `second_factor` is null, or a new
 * authenticator key `{ secret, account_name, issuer }` for an account
 * that needs one, and the key offered before stops working.
 */
export function openRecoveryLink(token) {
  return request('POST', '/account-recovery/open', { token });
}

/**
 * Sets the new password of the account a recovery link restores and
 * returns `{ recovery_codes }`, empty for an account without a second
 * factor. `totpCode`, the new authenticator's current code, is needed
 * when the link offered a key and must be null otherwise.
 */
export function completeRecovery(token, newPassword, totpCode = null) {
  const body = { token, new_password: newPassword };
  if (totpCode !== null) body.totp_code = totpCode;
  return request('POST', '/account-recovery/complete', body);
}

/** Turns news email off with the token of an unsubscribe link; no session needed. */
export function unsubscribe(token) {
  return request('POST', '/unsubscribe', { token });
}

/** Confirms a pending account, such as a relative who accepted my invitation. */
export function confirmUser(userId) {
  return request('POST', `/users/${encodeURIComponent(userId)}/confirm`);
}

/** Disables an account and ends all its sessions. */
export function disableUser(userId) {
  return request('POST', `/users/${encodeURIComponent(userId)}/disable`);
}

/** Returns `{ workers, invitations }` of an organisation, for its managers. */
export function fetchWorkers(organisationId) {
  return request('GET', `/organisations/${encodeURIComponent(organisationId)}/workers`);
}

/**
 * Invites a worker into an organisation by email and returns the
 * invitation. `invitation` is `{ email, display_name, role }`, the role
 * `practitioner` or `manager`.
 */
export function inviteWorker(organisationId, invitation) {
  return request(
    'POST',
    `/organisations/${encodeURIComponent(organisationId)}/invitations`,
    invitation,
  );
}

/** Returns every placing organisation with its licence terms, for the platform operator. */
export function fetchAdminOrganisations() {
  return request('GET', '/admin/organisations');
}

/**
 * Creates a placing organisation and returns it. `organisation` is `{ name,
 * kind, licence_starts_at, licence_expires_at, retention_days,
 * families_edit_profiles }`, the dates RFC 3339 or null.
 */
export function createOrganisation(organisation) {
  return request('POST', '/admin/organisations', organisation);
}

/** Replaces every term of an organisation (the body of createOrganisation without `kind`). */
export function saveOrganisationTerms(organisationId, terms) {
  return request('PUT', `/admin/organisations/${encodeURIComponent(organisationId)}`, terms);
}

/** Returns the key recoveries, newest first, for platform admins. */
export function fetchKeyRecoveries() {
  return request('GET', '/admin/key-recoveries');
}

/**
 * Requests the recovery of the account with address `email`, for `reason`,
 * and returns the new recovery. A second platform admin must approve it.
 */
export function requestKeyRecovery(email, reason) {
  return request('POST', '/admin/key-recoveries', { email, reason });
}

/** Approves a recovery that another platform admin requested and returns it. */
export function approveKeyRecovery(recoveryId) {
  return request('POST', `/admin/key-recoveries/${encodeURIComponent(recoveryId)}/approve`);
}

/** Cancels an open recovery, whose link stops working if sent, and returns it. */
export function cancelKeyRecovery(recoveryId) {
  return request('POST', `/admin/key-recoveries/${encodeURIComponent(recoveryId)}/cancel`);
}

/** Returns the other organisations a case can be published or transferred to, by name. */
export function fetchOrganisationDirectory() {
  return request('GET', '/organisations');
}

/** Returns the summaries of my organisation's own cases of `kind`, `child` or `family`. */
export function fetchOwnCases(kind) {
  return request('GET', `/cases?${new URLSearchParams({ kind })}`);
}

/** Creates a draft case from `{ kind, profile }` and returns it. */
export function createCase(kind, profile) {
  return request('POST', '/cases', { kind, profile });
}

export function fetchCase(caseId) {
  return request('GET', `/cases/${encodeURIComponent(caseId)}`);
}

/** Returns the summaries of the profiles a signed-in family keeps. */
export function fetchFamilyProfiles() {
  return request('GET', '/cases');
}

/**
 * Invites the family a family case describes to keep its own profile, and
 * returns the case's new `family_account`. `invitation` is `{ email,
 * display_name }`.
 */
export function inviteFamily(caseId, invitation) {
  return request('POST', `/cases/${encodeURIComponent(caseId)}/family-invitation`, invitation);
}

/** Ends a family's access to its profile. Its account stays. */
export function removeFamilyAccount(caseId) {
  return request('DELETE', `/cases/${encodeURIComponent(caseId)}/family-account`);
}

/**
 * Returns the `If-Match` header that makes a change apply only to the case
 * as it was read, whose `updated_at` is `version`.
 */
function ifUnchanged(version) {
  return version ? { 'If-Match': `"${version}"` } : {};
}

/**
 * Replaces the whole profile of a case and returns the case. `version` is
 * the `updated_at` of the case as the page read it: the server refuses the
 * change with `resource.changed` when someone changed the case since.
 */
export function saveCase(caseId, kind, profile, version) {
  return request(
    'PUT',
    `/cases/${encodeURIComponent(caseId)}`,
    { kind, profile },
    ifUnchanged(version),
  );
}

/**
 * Sets who a case is published to and returns the case. `visibility` is
 * `draft`, `all` or `named`, and `organisations` (ids) goes with `named` only.
 */
export function publishCase(caseId, visibility, organisations, anonymous, version) {
  const body = { visibility, anonymous };
  if (visibility === 'named') body.organisations = organisations;
  return request(
    'PUT',
    `/cases/${encodeURIComponent(caseId)}/publication`,
    body,
    ifUnchanged(version),
  );
}

/**
 * Sends `file` (a Blob) as the body of a POST to `path` under /api/v1 and
 * returns the parsed JSON response. `onProgress` receives the fraction of
 * the file sent so far, from 0 to 1. Aborting `signal` cancels the upload
 * and rejects with an AbortError. Other failures reject with an ApiError.
 *
 * This uses XMLHttpRequest, because fetch reports no upload progress.
 */
export function postFile(path, file, { onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open('POST', API_ROOT + path);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    const onAbort = () => xhr.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = () => signal?.removeEventListener('abort', onAbort);

    if (onProgress) {
      xhr.upload.addEventListener('progress', (event) => {
        const total = event.lengthComputable ? event.total : file.size;
        onProgress(total > 0 ? Math.min(1, event.loaded / total) : 0);
      });
    }
    xhr.addEventListener('load', () => {
      settle();
      const payload = parseJson(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) resolve(payload);
      else reject(failure(xhr.status, payload, (name) => xhr.getResponseHeader(name)));
    });
    xhr.addEventListener('error', () => {
      settle();
      const detail = 'file upload request failed';
      reject(new ApiError({ status: 0, code: NETWORK_ERROR, detail }));
    });
    xhr.addEventListener('abort', () => {
      settle();
      reject(signal?.reason ?? new DOMException('file upload request aborted', 'AbortError'));
    });
    xhr.send(file);
  });
}

/** Returns the address of `path` under /api/v1, for links and `src` attributes. */
export function apiUrl(path) {
  return API_ROOT + path;
}

/**
 * Uploads `file` (a Blob) as a photo or video of a case's profile, `slot`
 * being `photo` or `video`, and returns the new item, whose status is
 * `processing`. `options` are those of postFile.
 */
export function addCaseMedia(caseId, slot, file, options = {}) {
  const query = new URLSearchParams({ slot });
  return postFile(`/cases/${encodeURIComponent(caseId)}/media?${query}`, file, options);
}

/** Returns a case's photos and video without recording a view of the profile. */
export function fetchCaseMedia(caseId) {
  return request('GET', `/cases/${encodeURIComponent(caseId)}/media`);
}

/** Removes a photo or video, in any state, from a case's profile. */
export function removeCaseMedia(caseId, mediaId) {
  return request(
    'DELETE',
    `/cases/${encodeURIComponent(caseId)}/media/${encodeURIComponent(mediaId)}`,
  );
}

/** Returns the address of a rendition (`main`, `thumbnail` or `poster`) of a ready item. */
export function caseMediaUrl(caseId, mediaId, role) {
  return (
    `${API_ROOT}/cases/${encodeURIComponent(caseId)}` +
    `/media/${encodeURIComponent(mediaId)}/${encodeURIComponent(role)}`
  );
}

/** Returns the best cases of the other kind for one of my cases, each with its criteria. */
export function fetchMatches(caseId) {
  return request('GET', `/cases/${encodeURIComponent(caseId)}/matches`);
}

/** Returns how my organisation's case `caseId` fits the case `otherId`, explained. */
export function fetchMatchPair(caseId, otherId) {
  return request(
    'GET',
    `/cases/${encodeURIComponent(caseId)}/matches/${encodeURIComponent(otherId)}`,
  );
}

/**
 * Searches the published cases of `kind` (`children` or `families`) with
 * `filters`, an object of query parameters whose empty values are left out.
 * Returns `{ total, page, page_size, results }`.
 */
export function searchCases(kind, filters) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) {
    if (value !== '' && value !== null && value !== undefined) query.set(name, String(value));
  }
  return request('GET', `/search/${kind === 'families' ? 'families' : 'children'}?${query}`);
}

/** Expresses the interest of my family case in a child case; the result has `conversation_id`. */
export function expressInterest(childCaseId, familyCaseId) {
  return request('POST', `/cases/${encodeURIComponent(childCaseId)}/interests`, {
    family_case_id: familyCaseId,
  });
}

/** Returns the interests in my organisation's cases, most recently changed first. */
export function fetchInterests() {
  return request('GET', '/interests');
}

/** Moves an interest to `state`; ending it (placed, declined, withdrawn) needs a `reason` code. */
export function setInterestState(interestId, state, reason = null) {
  const body = reason ? { state, reason } : { state };
  return request('POST', `/interests/${encodeURIComponent(interestId)}/state`, body);
}

/**
 * Transfers a case to another organisation with the reference and date
 * (`YYYY-MM-DD`) of the decision that approved it, for managers.
 */
export function transferCase(caseId, organisationId, approvalReference, approvedOn) {
  return request('POST', `/cases/${encodeURIComponent(caseId)}/transfer`, {
    organisation_id: organisationId,
    approval_reference: approvalReference,
    approved_on: approvedOn,
  });
}

/**
 * Requests the erasure of one of my organisation's cases, for managers.
 * The case is hidden at once and anonymised 14 days later unless a manager
 * keeps it. Returns the case as a marked case, or rejects with
 * `case.legal_hold` when the case is on legal hold.
 */
export function eraseCase(caseId) {
  return request('DELETE', `/cases/${encodeURIComponent(caseId)}`);
}

/**
 * Returns my organisation's cases marked for deletion, the earliest marked
 * first: case summaries with `marked_at`, `reason` and `final_step_at`.
 */
export function fetchMarkedCases() {
  return request('GET', '/cases/marked');
}

/** Lifts the mark of a case marked for deletion, so it is visible again. */
export function keepCase(caseId) {
  return request('POST', `/cases/${encodeURIComponent(caseId)}/keep`);
}

/** Puts a case on legal hold with `reason` and returns the hold `{ since, by, reason }`. */
export function holdCase(caseId, reason) {
  return request('PUT', `/cases/${encodeURIComponent(caseId)}/hold`, { reason });
}

/** Lifts the legal hold of a case. */
export function liftCaseHold(caseId) {
  return request('DELETE', `/cases/${encodeURIComponent(caseId)}/hold`);
}

/** Returns how often other organisations viewed each of my organisation's cases. */
export function fetchProfileViews() {
  return request('GET', '/statistics/profile-views');
}

/** Returns the national sufficiency counts, with suppressed counts as null. */
export function fetchSufficiency() {
  return request('GET', '/statistics/sufficiency');
}

/**
 * Returns up to `limit` rows of my organisation's audit trail, newest
 * first, older than sequence number `before` when it is given.
 */
export function fetchAuditTrail(limit, before = null) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (before !== null) query.set('before', String(before));
  return request('GET', `/audit?${query}`);
}

/**
 * Returns the rights requests about me: open ones first by due day, then
 * closed ones, the most recently closed first.
 */
export function fetchMyRightsRequests() {
  return request('GET', '/me/rights-requests');
}

/**
 * Submits my own rights request of `kind` (access, correction, erasure,
 * restriction or marketing) with optional `details`, and returns it. A
 * `marketing` request turns marketing email off and comes back completed.
 */
export function submitRightsRequest(kind, details) {
  return request('POST', '/me/rights-requests', { kind, details: details || undefined });
}

/** Returns the rights requests sent to my organisation, for its staff. */
export function fetchRightsRequests() {
  return request('GET', '/rights-requests');
}

/**
 * Records a rights request of `kind` for a person without an account,
 * known by `subject` (`{ name, contact }`), and returns it.
 */
export function recordRightsRequest(kind, subject, details) {
  return request('POST', '/rights-requests', { kind, subject, details: details || undefined });
}

/**
 * Moves a rights request to `state` (in_progress, completed or refused),
 * for managers, and returns it. Refusing needs the legal `reason`, which
 * the person sees.
 */
export function moveRightsRequest(requestId, state, reason = null) {
  const body = reason === null ? { state } : { state, reason };
  return request('POST', `/rights-requests/${encodeURIComponent(requestId)}/state`, body);
}
