// Video sessions arranged ahead of time in the demo contact link. The
// council's practitioner arranges one from the conversation page with a
// date and time; a time in the past shows its error and stores nothing.
// The birth parent's page lists the session, with no form to arrange or
// cancel one. The practitioner cancels it after confirming,
// and the birth parent's page no longer lists it after a reload.

import assert from 'node:assert/strict';
import { describe } from 'node:test';

import {
  e2eTest,
  expectNoViolations,
  openConversation,
  openSignedIn,
  text,
  useServerAndBrowser,
} from './harness.mjs';

function scheduleRegion(page) {
  return page.getByRole('region', { name: text('schedule.title'), exact: true });
}

/** Returns `date` as a datetime-local value, `YYYY-MM-DDTHH:MM`, in the browser's time zone. */
async function localValue(page, offsetMs) {
  return page.evaluate((offset) => {
    const date = new Date(Date.now() + offset);
    const pad = (number) => String(number).padStart(2, '0');
    return (
      `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
      `T${pad(date.getHours())}:${pad(date.getMinutes())}`
    );
  }, offsetMs);
}

describe('arranged video sessions', () => {
  const env = useServerAndBrowser();

  e2eTest(env, 'practitioner arranges and cancels a session', async () => {
    const { page } = await openSignedIn(env, 'la_practitioner');
    await openConversation(page, 'contact_link');
    const region = scheduleRegion(page);
    await region.getByText(text('schedule.empty'), { exact: true }).waitFor();
    const when = region.getByLabel(text('schedule.starts_at_label'), { exact: true });
    const arrange = region.getByRole('button', { name: text('schedule.arrange'), exact: true });

    // A time already past is refused on the page, and nothing is listed.
    await when.fill(await localValue(page, -60 * 60 * 1000));
    await arrange.click();
    await region.getByText(text('schedule.starts_at_invalid'), { exact: true }).waitFor();
    assert.equal(await when.getAttribute('aria-invalid'), 'true');
    assert.equal(await region.getByRole('listitem').count(), 0, 'sessions after the bad time');

    const threeDays = 3 * 24 * 60 * 60 * 1000;
    await when.fill(await localValue(page, threeDays));
    await arrange.click();
    const session = region.getByRole('listitem');
    await session.waitFor();
    assert.match(await session.innerText(), /Priya Shah/);
    await expectNoViolations(page, 'conversation with an arranged session');

    // The birth parent's page lists it, with no way to arrange or cancel.
    const birth = await openSignedIn(env, 'birth_parent');
    await openConversation(birth.page, 'contact_link');
    const theirs = scheduleRegion(birth.page);
    await theirs.getByRole('listitem').waitFor();
    assert.equal(
      await theirs.getByLabel(text('schedule.starts_at_label')).count(),
      0,
      'the arranging form for a family member',
    );
    assert.equal(
      await theirs.getByRole('button', { name: new RegExp(text('schedule.cancel')) }).count(),
      0,
      'a cancel button for a family member',
    );

    // Cancelling needs a confirmation.
    await session.getByRole('button', { name: new RegExp(text('schedule.cancel')) }).click();
    await session
      .getByRole('button', { name: text('schedule.cancel_confirm'), exact: true })
      .click();
    await region.getByText(text('schedule.cancelled'), { exact: true }).waitFor();
    await region.getByText(text('schedule.empty'), { exact: true }).waitFor();

    await birth.page.reload();
    await scheduleRegion(birth.page).getByText(text('schedule.empty'), { exact: true }).waitFor();
  });
});
