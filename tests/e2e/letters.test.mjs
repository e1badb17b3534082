// Letterbox letters in the demo contact link, whose agreement protects the
// adoptive surname "Carter". The birth parent writes a letter and sees what
// the check flags. The supervising practitioner returns it with a reason,
// and the birth parent amends and resubmits it. The practitioner releases
// it and the adoptive parent reads it. The practitioner's timeline then
// lists each step, and the writer sees who read the letter. A second test
// changes the notification settings.

import assert from 'node:assert/strict';
import { describe } from 'node:test';

import {
  e2eTest,
  eventually,
  expectNoViolations,
  heading,
  openConversation,
  openSignedIn,
  text,
  useServerAndBrowser,
} from './harness.mjs';

const POSTCODE = 'LS6 2AB';
const SURNAME = 'Carter';

function lettersRegion(page) {
  return page.getByRole('region', { name: text('letters.title'), exact: true });
}

function findingsList(page) {
  return page.getByRole('list', { name: text('findings.title'), exact: true });
}

/** Returns the finding whose reason is the catalogue text of `rule`. */
function findingFor(page, rule) {
  return findingsList(page)
    .getByRole('listitem')
    .filter({ hasText: text(`findings.rule.${rule}`) });
}

function saveState(page) {
  return page.locator('#letter-save-state');
}

function letterText(page) {
  return page.getByLabel(text('letter.body_label'), { exact: true });
}

/** Waits until the writer's page shows the text as saved with a finding of each rule. */
async function waitForSavedFindings(page, expectedRules) {
  await eventually(async () => {
    assert.equal(await saveState(page).innerText(), text('letter.save.saved'), 'save state');
    const reasons = await findingsList(page).getByRole('listitem').allInnerTexts();
    for (const rule of expectedRules) {
      const reason = text(`findings.rule.${rule}`);
      assert.ok(
        reasons.some((line) => line.includes(reason)),
        `finding "${reason}" in ${JSON.stringify(reasons)}`,
      );
    }
  });
}

async function openFromQueue(record, writerName) {
  const { page } = record;
  await page.getByRole('navigation').getByRole('link', { name: text('nav.review_queue') }).click();
  await heading(page, 'review_queue.title').waitFor();
  await page.getByRole('link', { name: text('letters.from', { name: writerName }) }).click();
  await heading(page, 'letter.title_from', { name: writerName }).waitFor();
}

async function decide(page, buttonKey, reason) {
  if (reason) {
    await page.getByLabel(text('review.reason_label'), { exact: true }).fill(reason);
  }
  await page.getByRole('button', { name: text(buttonKey), exact: true }).click();
}

function statusHeading(page, status) {
  const name = text(`letter.status.${status}`);
  return page.getByRole('heading', { level: 2, name, exact: true });
}

describe('letterbox letters', () => {
  const env = useServerAndBrowser();

  e2eTest(env, 'letter returned, amended, released and read', async () => {
    const { users } = env.server;
    const writerName = users.birth_parent.display_name;
    const birth = await openSignedIn(env, 'birth_parent');
    const practitioner = await openSignedIn(env, 'la_practitioner');

    // The birth parent starts a letter from the contact link.
    await openConversation(birth.page, 'contact_link');
    await lettersRegion(birth.page).getByRole('button', { name: text('letters.write') }).click();
    await heading(birth.page, 'letter.title_yours').waitFor();

    // Both identifying details are flagged as the text saves, with the
    // writer's own words quoted and no protected term shown to the writer.
    const firstDraft =
      `Dear both,\nWe have moved to a flat near ${POSTCODE}. ` +
      `Please say hello to the ${SURNAME} family.`;
    await letterText(birth.page).fill(firstDraft);
    await waitForSavedFindings(birth.page, ['postcode', 'protected_term']);
    const postcodeQuote = await findingFor(birth.page, 'postcode').first().locator('q').innerText();
    assert.equal(postcodeQuote, POSTCODE, 'quoted postcode');
    const surnameQuote = await findingFor(birth.page, 'protected_term')
      .first()
      .locator('q')
      .innerText();
    assert.equal(surnameQuote, SURNAME, 'quoted surname');
    assert.equal(
      await birth.page.getByText(text('findings.term', { term: SURNAME })).count(),
      0,
      'protected term shown to the writer',
    );
    await expectNoViolations(birth.page, 'letter editor with findings');

    await birth.page.getByRole('button', { name: text('letter.submit'), exact: true }).click();
    await statusHeading(birth.page, 'submitted').waitFor();
    assert.equal(await letterText(birth.page).count(), 0, 'text area after submitting');

    // The practitioner sees the findings with the term they matched and
    // returns the letter with a reason.
    await openFromQueue(practitioner, writerName);
    await practitioner.page.getByText(text('findings.term', { term: SURNAME })).first().waitFor();
    const marked = await practitioner.page.locator('.letter__body mark').allInnerTexts();
    assert.ok(marked.includes(POSTCODE), `marked text ${JSON.stringify(marked)}`);
    await expectNoViolations(practitioner.page, 'letter review');
    const reason = 'Please leave out the postcode and the family name.';
    await decide(practitioner.page, 'review.return');
    await practitioner.page.getByText(text('review.reason_missing'), { exact: true }).waitFor();
    await decide(practitioner.page, 'review.return', reason);
    await statusHeading(practitioner.page, 'returned').waitFor();
    await practitioner.page.getByText(text('review.done.return'), { exact: true }).waitFor();

    // The birth parent finds the letter returned, reads the reason, and
    // amends and resubmits it.
    await birth.page.getByRole('link', { name: text('letter.back') }).click();
    const returnedCard = lettersRegion(birth.page)
      .getByRole('listitem')
      .filter({ hasText: text('letter.status.returned') });
    await returnedCard.getByRole('link', { name: text('letters.yours') }).click();
    await statusHeading(birth.page, 'returned').waitFor();
    await birth.page.getByText(reason, { exact: true }).waitFor();
    const amended = 'Dear both,\nWe have moved to a new flat and we are settling in well.';
    await letterText(birth.page).fill(amended);
    await eventually(async () => {
      assert.equal(await saveState(birth.page).innerText(), text('letter.save.saved'));
      const items = await findingsList(birth.page).getByRole('listitem').allInnerTexts();
      assert.deepEqual(items, [text('findings.none')], 'findings after amending');
    });
    await birth.page.getByRole('button', { name: text('letter.submit'), exact: true }).click();
    await statusHeading(birth.page, 'submitted').waitFor();

    // The practitioner sees the first version among the earlier ones and
    // releases the letter.
    await openFromQueue(practitioner, writerName);
    const versions = practitioner.page.getByRole('region', {
      name: text('review.versions_heading'),
    });
    const firstVersion = versions.locator('summary', {
      hasText: new RegExp(`^${text('review.version_summary', { version: 1, time: '' })}`),
    });
    await firstVersion.waitFor();
    await decide(practitioner.page, 'review.release');
    await statusHeading(practitioner.page, 'released').waitFor();

    // The adoptive parent opens the delivered letter from the contact link.
    const adoptive = await openSignedIn(env, 'adoptive_parent');
    await openConversation(adoptive.page, 'contact_link');
    const deliveredCard = lettersRegion(adoptive.page)
      .getByRole('listitem')
      .filter({ hasText: text('letter.status.released') });
    await deliveredCard
      .getByRole('link', { name: text('letters.from', { name: writerName }) })
      .click();
    await heading(adoptive.page, 'letter.title_from', { name: writerName }).waitFor();
    const shownText = await adoptive.page.locator('.letter__body').innerText();
    assert.equal(shownText, amended, 'letter text the reader sees');

    // The practitioner's timeline lists every step in order.
    await practitioner.page.getByRole('link', { name: text('letters.timeline_link') }).click();
    await heading(practitioner.page, 'timeline.title').waitFor();
    const practitionerName = users.la_practitioner.display_name;
    const expected = [
      text('timeline.step.written', { name: writerName }),
      text('timeline.step.term_flagged', { name: writerName, term: SURNAME }),
      text('timeline.step.submitted', { name: writerName, version: 1 }),
      text('timeline.step.returned', { name: practitionerName, version: 1 }),
      text('timeline.step.submitted', { name: writerName, version: 2 }),
      text('timeline.step.released', { name: practitionerName, version: 2 }),
      text('timeline.step.read', { name: users.adoptive_parent.display_name }),
    ];
    // The reader's page records the read just after showing the letter.
    await eventually(async () => {
      await practitioner.page.reload();
      await heading(practitioner.page, 'timeline.title').waitFor();
      await practitioner.page.locator('.timeline__step').first().waitFor();
      const steps = await practitioner.page.locator('.timeline__what').allInnerTexts();
      assert.deepEqual(steps, expected, 'timeline steps');
    });
    const returnedStep = practitioner.page
      .locator('.timeline__step')
      .filter({ hasText: expected[3] });
    await returnedStep.getByText(text('timeline.reason', { reason }), { exact: true }).waitFor();
    await expectNoViolations(practitioner.page, 'timeline');

    // The demo agreement shows read receipts to everyone, so the writer
    // sees who read the letter.
    await birth.page.reload();
    await statusHeading(birth.page, 'released').waitFor();
    const readBy = text('letter.read_by', { name: users.adoptive_parent.display_name, time: '' });
    await birth.page.getByText(readBy).waitFor();
  });

  e2eTest(env, 'notification settings are kept', async () => {
    const { page } = await openSignedIn(env, 'adoptive_parent');
    await page
      .getByRole('banner')
      .getByRole('link', { name: text('nav.notifications'), exact: true })
      .click();
    await heading(page, 'notifications.title').waitFor();

    const immediate = page.getByLabel(text('notifications.delivery.immediate'), { exact: true });
    const digest = page.getByLabel(text('notifications.delivery.digest'), { exact: true });
    const hour = page.getByLabel(text('notifications.hour_label'), { exact: true });
    const zone = page.getByLabel(text('notifications.time_zone_label'), { exact: true });
    const save = page.getByRole('button', { name: text('notifications.save'), exact: true });
    await hour.waitFor();
    assert.ok(await immediate.isChecked(), 'a new account gets an email each time');
    assert.equal(await hour.inputValue(), '18', 'default hour');
    assert.equal(await zone.inputValue(), 'Europe/London', 'default time zone');

    await digest.check();
    await hour.fill('7');
    await zone.selectOption('Europe/Paris');
    await save.click();
    await page.getByText(text('notifications.saved'), { exact: true }).waitFor();

    await page.reload();
    await heading(page, 'notifications.title').waitFor();
    await hour.waitFor();
    assert.ok(await digest.isChecked(), 'daily digest kept');
    assert.equal(await hour.inputValue(), '7', 'hour kept');
    assert.equal(await zone.inputValue(), 'Europe/Paris', 'time zone kept');

    // The server rejects hour 24, and the error shows with the hour field.
    await hour.fill('24');
    await save.click();
    const message = text('error.request.invalid_field.digest_hour');
    await page.getByText(message, { exact: true }).waitFor();
    assert.equal(await hour.getAttribute('aria-invalid'), 'true', 'hour marked invalid');
    const description = await hour.evaluate((input) =>
      input
        .getAttribute('aria-describedby')
        .split(' ')
        .map((id) => document.getElementById(id)?.textContent ?? '')
        .join(' '),
    );
    assert.ok(description.includes(message), `hour field description "${description}"`);
    const fieldText = await page.locator('.field', { has: hour }).innerText();
    assert.ok(fieldText.includes(message), `hour field "${fieldText}"`);
    await expectNoViolations(page, 'notification settings with an error');

    await page.reload();
    await hour.waitFor();
    assert.equal(await hour.inputValue(), '7', 'hour after the rejected change');
  });
});
