// Legal holds and erasure of the demo council's child case "Maisie, Jack".
// A practitioner sees neither the hold nor the erase controls. The
// council's manager puts the case on legal hold, tries to erase it and
// reads the hold's date and reason, then lifts the hold and erases the
// case. The case is then listed as marked for deletion, and the
// practitioner gets "not found" on its page, until the manager keeps it.
//
// The tests share one server and run in order, because each starts from
// the state the one before left.

import assert from 'node:assert/strict';
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

const CASE_TITLE = 'Maisie, Jack';
const HOLD_REASON = 'Court order CO-2026-044: keep the file until the appeal is decided';

function button(page, key, params) {
  return page.getByRole('button', { name: text(key, params), exact: true });
}

function region(page, key, params) {
  return page.getByRole('region', { name: text(key, params), exact: true });
}

function sectionLink(page, key) {
  return page
    .getByRole('navigation', { name: text('nav.ff.label') })
    .getByRole('link', { name: text(key), exact: true });
}

function caseHeading(page) {
  return page.getByRole('heading', { level: 1, name: CASE_TITLE, exact: true });
}

async function isFocused(locator) {
  return locator.evaluate((element) => element === document.activeElement);
}

/** Formats today's local date as the page does, such as "15 September 2026". */
function today() {
  return new Intl.DateTimeFormat('en-GB', { dateStyle: 'long' }).format(new Date());
}

/** Opens the case from the Cases page and returns its address. */
async function openCase(page) {
  await page
    .getByRole('navigation', { name: text('nav.label') })
    .getByRole('link', { name: text('nav.family_finding'), exact: true })
    .click();
  await heading(page, 'cases.title').waitFor();
  await page.getByRole('link', { name: CASE_TITLE, exact: true }).click();
  await caseHeading(page).waitFor();
  return page.url();
}

/** Returns the list item of the case on the Marked for deletion page. */
function markedItem(page) {
  return page
    .locator('.case-card')
    .filter({ has: page.getByRole('heading', { name: CASE_TITLE, exact: true }) });
}

describe('case retention', () => {
  const env = useServerAndBrowser();
  /** The case page's address, from the first test. */
  let caseUrl = null;

  e2eTest(env, 'practitioner has no retention controls', async () => {
    const record = await openSignedIn(env, 'la_practitioner');
    const { page } = record;
    caseUrl = await openCase(page);
    await region(page, 'case.interests_title').waitFor();
    await region(page, 'publication.title').waitFor();
    assert.equal(await region(page, 'case_retention.hold_title').count(), 0, 'Legal hold area');
    assert.equal(await region(page, 'case_retention.erase_title').count(), 0, 'Erase area');
    assert.equal(
      await sectionLink(page, 'nav.ff.marked').count(),
      0,
      'Marked for deletion link for a practitioner',
    );

    await page.goto(`${env.server.address}/#/cases/marked`);
    await heading(page, 'marked_cases.title').waitFor();
    await page.getByText(text('marked_cases.managers_only'), { exact: true }).waitFor();
    assert.deepEqual(cspViolations(record), [], 'Content-Security-Policy violations');
  });

  e2eTest(env, 'legal hold blocks erasure until lifted', async () => {
    assert.ok(caseUrl, 'the case address of the first test');
    const record = await openSignedIn(env, 'la_manager');
    const { page } = record;
    await openCase(page);
    const hold = region(page, 'case_retention.hold_title');
    const reason = hold.getByLabel(text('case_retention.hold_reason_label'), { exact: true });

    // A hold needs a reason, and one on a single line.
    await button(hold, 'case_retention.hold_submit').click();
    await hold.getByText(text('case_retention.reason_missing'), { exact: true }).waitFor();
    assert.ok(await isFocused(reason), 'focus moves to the reason');
    assert.equal(await reason.getAttribute('aria-invalid'), 'true');
    await expectNoViolations(page, 'case page with a hold reason missing');
    await reason.fill('First line\nsecond line');
    await button(hold, 'case_retention.hold_submit').click();
    await hold.getByText(text('case_retention.reason_line_breaks'), { exact: true }).waitFor();

    await reason.fill(HOLD_REASON);
    await button(hold, 'case_retention.hold_submit').click();
    await hold.getByText(text('case_retention.held'), { exact: true }).waitFor();
    const since = text('case_retention.hold_since', { date: today() });
    await hold.getByText(since, { exact: true }).waitFor();
    await hold.getByText(HOLD_REASON, { exact: true }).waitFor();
    assert.equal(await button(hold, 'case_retention.hold_submit').count(), 0, 'hold form');
    await expectNoViolations(page, 'case page on legal hold');

    // The hold survives a reload, as the server sends it with the case.
    await page.reload();
    await caseHeading(page).waitFor();
    await hold.getByText(HOLD_REASON, { exact: true }).waitFor();

    // Erasing needs a confirmation, and the server rejects it because of the hold.
    const erase = region(page, 'case_retention.erase_title');
    await button(erase, 'case_retention.erase_open').click();
    const question = erase.getByRole('heading', {
      name: text('case_retention.erase_confirm_title', { title: CASE_TITLE }),
      exact: true,
    });
    await question.waitFor();
    assert.ok(await isFocused(question), 'focus moves to the question');
    await erase
      .getByText(text('case_retention.erase_confirm_body', { title: CASE_TITLE }), { exact: true })
      .waitFor();
    await expectNoViolations(page, 'case page asking to erase');
    await button(erase, 'case_retention.erase_confirm').click();
    const rejectionText = text('case_retention.erase_held', { date: today(), reason: HOLD_REASON });
    const alert = erase.getByRole('alert');
    await erase.getByText(rejectionText, { exact: true }).waitFor();
    assert.equal(await alert.innerText(), rejectionText, 'rejection text');
    assert.ok(await isFocused(alert), 'focus moves to the rejection');
    await caseHeading(page).waitFor();

    await button(hold, 'case_retention.hold_lift').click();
    await hold.getByText(text('case_retention.lifted'), { exact: true }).waitFor();
    await reason.waitFor();
    assert.equal(await hold.getByText(HOLD_REASON, { exact: true }).count(), 0, 'reason shown');
    await page.reload();
    await caseHeading(page).waitFor();
    await reason.waitFor();
    assert.equal(await button(hold, 'case_retention.hold_lift').count(), 0, 'Lift hold button');
    assert.deepEqual(cspViolations(record), [], 'Content-Security-Policy violations');
  });

  e2eTest(env, 'erased case is marked, then kept', async () => {
    assert.ok(caseUrl, 'the case address of the first test');
    const manager = await openSignedIn(env, 'la_manager');
    const { page } = manager;
    await openCase(page);

    // An empty list first, reached from the section's navigation.
    await sectionLink(page, 'nav.ff.marked').click();
    await heading(page, 'marked_cases.title').waitFor();
    await page.getByText(text('marked_cases.empty'), { exact: true }).waitFor();

    await page.goto(caseUrl);
    await caseHeading(page).waitFor();
    const erase = region(page, 'case_retention.erase_title');
    await button(erase, 'case_retention.erase_open').click();
    await button(erase, 'case_retention.erase_cancel').click();
    assert.ok(
      await isFocused(button(erase, 'case_retention.erase_open')),
      'Cancel returns focus to the Erase button',
    );
    await button(erase, 'case_retention.erase_open').click();
    await button(erase, 'case_retention.erase_confirm').click();

    // The manager lands on the marked cases, where the case waits.
    await heading(page, 'marked_cases.title').waitFor();
    const item = markedItem(page);
    await item.waitFor();
    await item.getByText(text('marked_cases.kind.child'), { exact: true }).waitFor();
    const reason = text('marked_cases.reason', {
      reason: text('codes.mark_reason.organisation_request'),
    });
    await item.getByText(reason, { exact: true }).waitFor();
    await item
      .getByText(text('marked_cases.marked_on', { date: today() }), { exact: false })
      .waitFor();
    const [finalStart] = text('marked_cases.final_step').split('{time}');
    assert.match(await item.innerText(), new RegExp(`${finalStart}\\d{1,2} \\w+ \\d{4}`));
    assert.equal(
      await item.getByRole('link', { name: CASE_TITLE }).count(),
      0,
      'link to the hidden case',
    );
    await expectNoViolations(page, 'marked for deletion with a case');

    // The case is hidden from the council's own practitioner.
    const practitioner = await openSignedIn(env, 'la_practitioner');
    const practitionerPage = practitioner.page;
    await practitionerPage.goto(caseUrl);
    await heading(practitionerPage, 'case.not_found_title').waitFor();
    await practitionerPage.getByRole('link', { name: text('case.back'), exact: true }).click();
    await heading(practitionerPage, 'cases.title').waitFor();
    await practitionerPage.locator('.case-list > li').first().waitFor();
    assert.equal(
      await practitionerPage.getByRole('link', { name: CASE_TITLE, exact: true }).count(),
      0,
      'hidden case on the Cases page',
    );

    // The manager keeps it, so it leaves the list and is visible again.
    const keep = item.getByRole('button', {
      name: `${text('marked_cases.keep')} ${CASE_TITLE}`,
      exact: true,
    });
    await keep.click();
    await page
      .getByText(text('marked_cases.kept', { title: CASE_TITLE }), { exact: false })
      .waitFor();
    await page.getByText(text('marked_cases.empty'), { exact: true }).waitFor();
    assert.equal(await markedItem(page).count(), 0, 'kept case on the list');
    const listHeading = page.getByRole('heading', {
      name: text('marked_cases.list_heading'),
      exact: true,
    });
    assert.ok(await isFocused(listHeading), 'focus moves to the list heading');
    await expectNoViolations(page, 'marked for deletion after keeping');

    await page
      .getByRole('link', { name: text('marked_cases.open_case', { title: CASE_TITLE }) })
      .click();
    await caseHeading(page).waitFor();
    await practitionerPage.goto(caseUrl);
    await practitionerPage.reload();
    await caseHeading(practitionerPage).waitFor();

    for (const record of [manager, practitioner]) {
      assert.deepEqual(cspViolations(record), [], 'Content-Security-Policy violations');
    }
  });
});
