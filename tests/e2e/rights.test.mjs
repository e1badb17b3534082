// Rights requests of the people in the data, at the demo council. A birth
// family member requests a copy of their data from the user menu, sees
// the request received with its due day, and downloads their own copy. The council's practitioner sees
// it on the staff page without decision buttons, and records an erasure
// request for someone without an account. The council's manager starts
// the family member's request and refuses it with a legal reason, which
// the family member then reads on their own page.
//
// The tests share one server and run in order, because each starts from
// the state the one before left.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe } from 'node:test';

import {
  cspViolations,
  e2eTest,
  expectNoViolations,
  heading,
  openSignedIn,
  text,
  useServerAndBrowser,
} from './harness.mjs';

const ACCESS_DETAILS = 'Please send me a copy of every letter kept about me.';
const REFUSAL_REASON = 'The letters belong to a sealed court record, which we may not copy.';
const SUBJECT = { name: 'Sam Taylor', contact: 'sam.taylor@example.org' };
const SUBJECT_DETAILS = 'Asked by letter to erase the enquiry made in 2019.';

function button(page, key, params) {
  return page.getByRole('button', { name: text(key, params), exact: true });
}

function userMenuLink(page, key) {
  return page.locator('#user-area').getByRole('link', { name: text(key), exact: true });
}

function navLink(page, key) {
  return page
    .getByRole('navigation', { name: text('nav.label') })
    .getByRole('link', { name: text(key), exact: true });
}

async function isFocused(locator) {
  return locator.evaluate((element) => element === document.activeElement);
}

/** Formats today's local date as the page formats a received day. */
function today() {
  return new Intl.DateTimeFormat('en-GB', { dateStyle: 'long' }).format(new Date());
}

/**
 * Formats the due day of a request received today: the same day of the
 * next month in UTC, or that month's last day when it is shorter.
 */
function dueDay() {
  const now = new Date();
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth();
  const lastDayOfNextMonth = new Date(Date.UTC(year, month + 2, 0)).getUTCDate();
  const due = new Date(Date.UTC(year, month + 1, Math.min(now.getUTCDate(), lastDayOfNextMonth)));
  return new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeZone: 'UTC' }).format(due);
}

/** Returns the list item of the request `id`. */
function requestCard(page, id) {
  return page.locator(`.rights-card[data-request-id="${id}"]`);
}

/** Returns the value shown after the term `key` in a request's list of days. */
function dayValue(card, key) {
  return card
    .locator('.rights-card__days dt', { hasText: text(key) })
    .locator('xpath=following-sibling::dd[1]');
}

/** Returns the accessible name of a decision button of the family member's access request. */
function decisionName(key) {
  const context = text('rights_requests.button_context', {
    kind: text('rights_requests.kind.access'),
    date: today(),
  });
  return `${text(key)} ${context}`;
}

describe('rights requests', () => {
  const env = useServerAndBrowser();
  /**
   * The family member's page, account id and access request id, from the
   * first test.
   */
  const shared = { family: null, familyUserId: null, requestId: null };

  e2eTest(env, 'family member submits access request', async () => {
    const record = await openSignedIn(env, 'birth_parent');
    shared.family = record;
    const { page } = record;
    await userMenuLink(page, 'nav.rights').click();
    await heading(page, 'rights.title').waitFor();
    await page.getByText(text('rights.empty'), { exact: true }).waitFor();
    await page.getByText(text('rights.explain.restriction'), { exact: true }).waitFor();

    // A correction needs details: what is wrong and what is right.
    const kind = page.getByLabel(text('rights.kind_label'), { exact: true });
    const details = page.getByLabel(text('rights.details_label'), { exact: true });
    await kind.selectOption({ label: text('rights.kind.correction') });
    await button(page, 'rights.submit').click();
    await page.getByText(text('rights.details_missing'), { exact: true }).waitFor();
    assert.ok(await isFocused(details), 'focus moves to the details');
    assert.equal(await details.getAttribute('aria-invalid'), 'true');
    await expectNoViolations(page, 'data rights with details missing');

    await kind.selectOption({ label: text('rights.kind.access') });
    await details.fill(ACCESS_DETAILS);
    await button(page, 'rights.submit').click();
    const sent = text('rights.sent', { date: dueDay() });
    await page.getByText(sent, { exact: true }).waitFor();
    assert.equal(await details.getAttribute('aria-invalid'), null, 'details error cleared');

    const card = page.locator('.rights-card');
    await card.waitFor();
    assert.equal(await card.count(), 1, 'one request listed');
    shared.requestId = await card.getAttribute('data-request-id');
    shared.familyUserId = await page.evaluate(async () => {
      const response = await fetch('/api/v1/me');
      const me = await response.json();
      return (me.user ?? me).id;
    });
    assert.ok(shared.requestId, 'the listed request has an id');
    await card
      .getByRole('heading', { level: 3, name: text('rights.kind.access'), exact: true })
      .waitFor();
    await card.locator('.badge', { hasText: text('rights.state.received') }).waitFor();
    assert.equal(await dayValue(card, 'rights.received').innerText(), today());
    assert.equal(await dayValue(card, 'rights.due').innerText(), dueDay());
    await card.getByText(ACCESS_DETAILS, { exact: true }).waitFor();
    assert.equal(
      await card.locator('.badge', { hasText: text('rights.overdue') }).count(),
      0,
      'a new request is not overdue',
    );
    await expectNoViolations(page, 'data rights with a request');

    // The family member's own copy downloads at once, without a request,
    // and includes the request's details, opened.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: text('rights.export_link'), exact: true }).click(),
    ]);
    assert.match(download.suggestedFilename(), /^kinlink-export-\d{4}-\d{2}-\d{2}\.zip$/);
    const archive = await readFile(await download.path());
    assert.equal(archive.subarray(0, 4).toString('latin1'), 'PK\x03\x04', 'a ZIP archive');
    assert.ok(archive.includes(Buffer.from('"format": "kinlink-access-export"')), 'export.json');
    assert.ok(archive.includes(Buffer.from(ACCESS_DETAILS)), 'the request details, opened');
    assert.deepEqual(cspViolations(record), [], 'Content-Security-Policy violations');
  });

  e2eTest(env, 'practitioner records request without account', async () => {
    assert.ok(shared.requestId, 'the access request of the first test');
    const record = await openSignedIn(env, 'la_practitioner');
    const { page } = record;
    await navLink(page, 'nav.rights_requests').click();
    await heading(page, 'rights_requests.title').waitFor();

    // The family member's request, with no decision buttons for a practitioner.
    const card = requestCard(page, shared.requestId);
    await card.waitFor();
    await card.locator('.badge', { hasText: text('rights.state.received') }).waitFor();
    await card.getByText(ACCESS_DETAILS, { exact: true }).waitFor();
    assert.equal(
      await card.locator('.rights-card__who').innerText(),
      text('rights_requests.who_account', { id: shared.familyUserId }),
      'who the request is about',
    );
    const decisions = ['start', 'complete', 'refuse'].map((name) => `rights_requests.${name}`);
    for (const key of decisions) {
      assert.equal(
        await page.getByRole('button', { name: text(key) }).count(),
        0,
        `${text(key)} button for a practitioner`,
      );
    }

    // Name, contact and right are required.
    const form = page.getByRole('form', { name: text('rights_requests.record_heading') });
    await button(form, 'rights_requests.record_submit').click();
    await form.getByText(text('rights_requests.name_missing'), { exact: true }).waitFor();
    await form.getByText(text('rights_requests.contact_missing'), { exact: true }).waitFor();
    await form.getByText(text('rights.kind_missing'), { exact: true }).waitFor();
    const name = form.getByLabel(text('rights_requests.name_label'), { exact: true });
    assert.ok(await isFocused(name), 'focus moves to the first field with a problem');

    await name.fill(SUBJECT.name);
    await form
      .getByLabel(text('rights_requests.contact_label'), { exact: true })
      .fill(SUBJECT.contact);
    await form
      .getByLabel(text('rights_requests.kind_label'), { exact: true })
      .selectOption({ label: text('rights_requests.kind.erasure') });
    await form
      .getByLabel(text('rights_requests.details_label'), { exact: true })
      .fill(SUBJECT_DETAILS);
    await button(form, 'rights_requests.record_submit').click();
    const recorded = text('rights_requests.recorded', { name: SUBJECT.name, date: dueDay() });
    await page.getByText(recorded, { exact: true }).waitFor();
    assert.equal(await name.inputValue(), '', 'the form is cleared');

    const whoText = text('rights_requests.who_no_account', SUBJECT);
    const recordedCard = page.locator('.rights-card', { hasText: whoText });
    await recordedCard.waitFor();
    await recordedCard
      .getByRole('heading', { level: 3, name: text('rights_requests.kind.erasure'), exact: true })
      .waitFor();
    await recordedCard.locator('.badge', { hasText: text('rights.state.received') }).waitFor();
    await recordedCard.getByText(SUBJECT_DETAILS, { exact: true }).waitFor();
    assert.equal(await dayValue(recordedCard, 'rights.due').innerText(), dueDay());
    const refuseButtons = page.getByRole('button', { name: text('rights_requests.refuse') });
    assert.equal(await refuseButtons.count(), 0, 'Refuse button for a practitioner');
    await expectNoViolations(page, 'rights requests of a practitioner');
    assert.deepEqual(cspViolations(record), [], 'Content-Security-Policy violations');
  });

  e2eTest(env, 'manager starts then refuses request', async () => {
    assert.ok(shared.requestId, 'the access request of the first test');
    const record = await openSignedIn(env, 'la_manager');
    const { page } = record;
    await navLink(page, 'nav.rights_requests').click();
    await heading(page, 'rights_requests.title').waitFor();
    const card = requestCard(page, shared.requestId);
    await card.waitFor();

    await card
      .getByRole('button', { name: decisionName('rights_requests.start'), exact: true })
      .click();
    await page.getByText(text('rights_requests.started'), { exact: true }).waitFor();
    await card.locator('.badge', { hasText: text('rights.state.in_progress') }).waitFor();
    assert.equal(
      await card.getByRole('button', { name: decisionName('rights_requests.start') }).count(),
      0,
      'no Start button on a request in progress',
    );

    // A refusal needs its legal reason.
    await card
      .getByRole('button', { name: decisionName('rights_requests.refuse'), exact: true })
      .click();
    const reason = card.getByLabel(text('rights_requests.reason_label'), { exact: true });
    assert.ok(await isFocused(reason), 'focus moves to the reason');
    await button(card, 'rights_requests.refuse_confirm').click();
    await card.getByText(text('rights_requests.reason_missing'), { exact: true }).waitFor();
    assert.equal(await reason.getAttribute('aria-invalid'), 'true');
    await expectNoViolations(page, 'rights requests with a refusal reason missing');

    await reason.fill(REFUSAL_REASON);
    await button(card, 'rights_requests.refuse_confirm').click();
    await page.getByText(text('rights_requests.refused'), { exact: true }).waitFor();
    await card.locator('.badge', { hasText: text('rights.state.refused') }).waitFor();
    await card.getByText(REFUSAL_REASON, { exact: true }).waitFor();
    assert.equal(await dayValue(card, 'rights.closed').innerText(), today());
    assert.equal(await card.getByRole('button').count(), 0, 'no decision buttons once refused');

    // The request recorded for someone without an account is still open to decide.
    const otherCard = page.locator('.rights-card', {
      hasText: text('rights_requests.who_no_account', SUBJECT),
    });
    await otherCard.getByRole('button', { name: text('rights_requests.complete') }).waitFor();
    await expectNoViolations(page, 'rights requests of a manager');
    assert.deepEqual(cspViolations(record), [], 'Content-Security-Policy violations');
  });

  e2eTest(env, 'family member reads refusal reason', async () => {
    assert.ok(shared.family, 'the family member page of the first test');
    const { page } = shared.family;
    await page.reload();
    await heading(page, 'rights.title').waitFor();
    const card = requestCard(page, shared.requestId);
    await card.locator('.badge', { hasText: text('rights.state.refused') }).waitFor();
    await card.getByText(text('rights.refusal_reason'), { exact: true }).waitFor();
    await card.getByText(REFUSAL_REASON, { exact: true }).waitFor();
    assert.equal(await dayValue(card, 'rights.closed').innerText(), today());
    assert.equal(await dayValue(card, 'rights.due').innerText(), dueDay());
    const listed = await page.locator('.rights-card').count();
    assert.equal(listed, 1, 'only their own request is listed');
    await expectNoViolations(page, 'data rights with a refused request');
    assert.deepEqual(cspViolations(shared.family), [], 'Content-Security-Policy violations');
  });
});
