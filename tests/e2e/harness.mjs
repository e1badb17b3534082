// Shared set-up for the end-to-end tests: one server and one Chromium per
// test file, pages that record their console for failure reports, and the
// steps most tests share (sign in, open a conversation, send a message).
//
// Tests find elements by the text of the British English catalogue, so a
// changed wording changes the tests with it.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium } from 'playwright-core';

import { REPO_ROOT, startServer } from './server.mjs';
import { freshTotp } from './totp.mjs';

const CHROMIUM_PATH = process.env.KINLINK_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Flags of the video call tests: a fake camera and microphone (a test
 * picture and a tone), allowed without a prompt, and WebRTC over
 * 127.0.0.1, where the server's SFU binds its UDP ports. Host candidates
 * carry real addresses rather than mDNS names, which the SFU does not resolve.
 */
const MEDIA_ARGS = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

export const TEST_TIMEOUT_MS = 180_000;
/** How long a step waits for the page to show what it expects. */
export const STEP_TIMEOUT_MS = 15_000;

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 360, height: 740 };

/** The en-GB message catalogue, the source of every string the page shows. */
export const catalogue = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'web', 'i18n', 'en-GB.json'), 'utf8'),
);

/** Catalogue text for `key` with `{name}` placeholders filled. */
export function text(key, params = {}) {
  const template = catalogue[key];
  assert.ok(template !== undefined, `catalogue has no key ${key}`);
  return template.replace(/\{(\w+)\}/g, (placeholder, name) =>
    name in params ? String(params[name]) : placeholder,
  );
}

/**
 * Registers before/after hooks that start a server and a browser for the
 * current file. The returned object is filled in once `before` has run.
 * With `media`, the browser has a fake camera and microphone and may make
 * WebRTC connections to 127.0.0.1.
 */
export function useServerAndBrowser({ media = false } = {}) {
  const env = { server: null, browser: null, pages: [] };
  const args = media ? [...CHROMIUM_ARGS, ...MEDIA_ARGS] : CHROMIUM_ARGS;
  before(async () => {
    env.server = await startServer();
    env.browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args });
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}

/** Declares a test that prints the server log and page state when it fails. */
export function e2eTest(env, name, body) {
  test(name, { timeout: TEST_TIMEOUT_MS }, async () => {
    try {
      await body();
    } catch (error) {
      await printDiagnostics(env);
      throw error;
    }
  });
}

async function printDiagnostics(env) {
  for (const { page, label, consoleLines } of env.pages) {
    let body = '(page closed)';
    if (!page.isClosed()) {
      body = await page
        .locator('body')
        .innerText({ timeout: 2_000 })
        .catch((error) => `(page text unavailable: ${error.message})`);
    }
    const url = page.isClosed() ? '' : page.url();
    console.error(`--- page ${label} at ${url} ---\n${body}`);
    const lines = consoleLines.slice(-60).join('\n');
    console.error(`--- console and WebSocket frames of ${label} ---\n${lines}`);
  }
  if (env.server) console.error(`--- server log (last lines) ---\n${await env.server.logTail()}`);
}

/**
 * Opens a page in a fresh browser context, which has its own cookies.
 * `label` names it in failure reports, and `viewport` defaults to desktop size.
 */
export async function openPage(env, label, { viewport = DESKTOP } = {}) {
  const context = await env.browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const record = { page, context, label, consoleLines: [], loads: 0 };
  page.on('console', (message) => record.consoleLines.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => record.consoleLines.push(`uncaught: ${error.message}`));
  page.on('load', () => {
    record.loads += 1;
  });
  page.on('websocket', (socket) => {
    socket.on('framesent', (frame) => record.consoleLines.push(`ws sent: ${frame.payload}`));
    socket.on('framereceived', (frame) => record.consoleLines.push(`ws received: ${frame.payload}`));
    socket.on('close', () => record.consoleLines.push('ws closed'));
  });
  env.pages.push(record);
  return record;
}

const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

function describeViolations(violations) {
  return violations
    .map((violation) => {
      const targets = violation.nodes.map((node) => `    ${node.target.join(' ')}`).join('\n');
      return `${violation.id} (${violation.impact}): ${violation.help}\n${targets}`;
    })
    .join('\n');
}

/** Runs axe with the WCAG 2.2 A and AA rules and fails on any violation. */
export async function expectNoViolations(page, pageName) {
  const results = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
  assert.ok(results.passes.length > 0, `axe checked nothing on ${pageName}`);
  assert.equal(
    results.violations.length,
    0,
    `axe violations on ${pageName}:\n${describeViolations(results.violations)}`,
  );
}

/** Returns the lines the browser logged about Content-Security-Policy violations. */
export function cspViolations(record) {
  return record.consoleLines.filter(
    (line) => !line.startsWith('ws ') && /Content Security Policy/i.test(line),
  );
}

/** Polls `check` until it stops throwing and returns its value, or rethrows its last failure. */
export async function eventually(check, timeoutMs = STEP_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function heading(page, key, params) {
  return page.getByRole('heading', { level: 1, name: text(key, params), exact: true });
}

/** Fills the email and password step and submits it with Enter or the button. */
export async function submitPassword(page, user, { password = user.password } = {}) {
  await page.getByLabel(text('signin.email'), { exact: true }).fill(user.email);
  await page.getByLabel(text('signin.password'), { exact: true }).fill(password);
  await page.getByRole('button', { name: text('signin.submit'), exact: true }).click();
}

/**
 * Opens the sign-in page and signs `user` in, with a TOTP code when the
 * account has one. With `hasConversations` false, it does not wait for the
 * first conversation, for users who are in none (a platform operator, a
 * manager outside every discussion). With `landing: 'community'` it waits
 * for the community page instead, the home of accounts that have only
 * community roles or none.
 */
export async function signIn(
  env,
  record,
  user,
  { hasConversations = true, landing = 'conversations' } = {},
) {
  const { page } = record;
  await page.goto(`${env.server.address}/#/sign-in`);
  await heading(page, 'signin.title').waitFor();
  await submitPassword(page, user);
  if (user.totp_secret) {
    await heading(page, 'second_factor.title').waitFor();
    const code = await freshTotp(user.totp_secret);
    await page.getByLabel(text('second_factor.totp_label'), { exact: true }).fill(code);
    await page.getByRole('button', { name: text('second_factor.submit'), exact: true }).click();
  }
  if (landing === 'community') {
    await heading(page, 'community.title').waitFor();
    return;
  }
  await heading(page, 'conversations.title').waitFor();
  // The heading appears before the list has loaded, so wait for the first
  // item, or for the empty list's text.
  const firstItem = hasConversations
    ? page.locator('.conversation-list > li').first()
    : page.locator('.conversation-list > li:is(.conversation-card, .empty)').first();
  await firstItem.waitFor();
}

/**
 * Opens a new page and signs in the demo user `key`. `options` are those
 * of openPage and signIn.
 */
export async function openSignedIn(env, key, options = {}) {
  const record = await openPage(env, key, options);
  await signIn(env, record, env.server.users[key], options);
  return record;
}

/** Returns the list item of the conversation of `kind` ('contact_link' or 'discussion'). */
export function conversationCard(page, kind) {
  return page
    .locator('.conversation-card')
    .filter({ hasText: text(`conversations.kind.${kind}`) });
}

/** From the list, opens the conversation of `kind` and waits for its history. */
export async function openConversation(page, kind) {
  const card = conversationCard(page, kind);
  await card.first().getByRole('link').click();
  await page.getByRole('log').waitFor();
  await page.getByLabel(text('conversation.composer_label'), { exact: true }).waitFor();
}

/** Types `body` into the composer and presses Enter. */
export async function sendMessage(page, body) {
  const composer = page.getByLabel(text('conversation.composer_label'), { exact: true });
  await composer.fill(body);
  await composer.press('Enter');
}

/** Returns the message items in the log whose body contains `body`. */
export function messagesWithBody(page, body) {
  return page
    .getByRole('log')
    .locator('.message')
    .filter({ has: page.locator('.message__body', { hasText: body }) });
}

/** Waits until the status line of my message `body` reads the catalogue text of `statusKey`. */
export async function waitForStatus(page, body, statusKey) {
  const expected = text(statusKey);
  await eventually(async () => {
    const status = await messagesWithBody(page, body).locator('.message__status').textContent();
    assert.equal(status?.trim(), expected, `status of my message "${body}"`);
  });
}

/** Asserts that exactly one message with `body` is shown, from `sender`. */
export async function expectSingleMessage(page, body, sender) {
  await messagesWithBody(page, body).first().waitFor();
  assert.equal(await messagesWithBody(page, body).count(), 1, `copies of message "${body}"`);
  const shownSender = await messagesWithBody(page, body).locator('.message__sender').textContent();
  assert.equal(shownSender, sender, `sender of message "${body}"`);
}

/** Returns a one-page PDF with correct cross-reference offsets. */
export function minimalPdf() {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>',
  ];
  let pdf = '%PDF-1.4\n';
  const offsets = [];
  objects.forEach((object, index) => {
    offsets.push(pdf.length);
    pdf += `${index + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) pdf += `${String(offset).padStart(10, '0')} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return pdf;
}

/** Returns a message body that no earlier run can have produced. */
export function uniqueBody(prefix) {
  return `${prefix} ${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
