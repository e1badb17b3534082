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

async function request(method, path, body) {
  const init = { method, credentials: 'same-origin', cache: 'no-store', headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }

  let response;
  try {
    response = await fetch(API_ROOT + path, init);
  } catch (cause) {
    throw new ApiError({ status: 0, code: NETWORK_ERROR, detail: String(cause) });
  }

  if (response.status === 204) return null;
  const payload = await readJson(response);
  if (response.ok) return payload;

  const error = new ApiError({
    status: response.status,
    code: payload?.code ?? (response.status >= 500 ? 'server.internal' : 'unknown'),
    field: payload?.field,
    requestId: response.headers.get('X-Request-Id'),
    retryAfterSeconds: parseRetryAfter(response.headers.get('Retry-After')),
    detail: payload?.message,
  });
  if (error.code === 'auth.required' && unauthorisedHandler) unauthorisedHandler(error);
  throw error;
}

async function readJson(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
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
