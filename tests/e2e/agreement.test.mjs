// The agreement page of the demo contact link, which the council's
// practitioner supervises. The practitioner adds a protected term, lets
// the birth family attach documents only and moves the September exchange
// to the 15th; the values are kept. A bad value shows its error with its
// group and changes nothing. Suspending the link shows the birth parent
// the suspension and its reason and takes away "Write a letter"; making it
// active again gives it back. With live messages turned off, the birth
// parent's message box closes with a notice to write a letter instead,
// and turned on again it opens without a reload. The review page lists an
// exchange that falls
// due, or says that none is due. Ending the link asks for confirmation and
// leaves the agreement read-only.

import assert from 'node:assert/strict';
import { describe } from 'node:test';

import {
  e2eTest,
  eventually,
  expectNoViolations,
  heading,
  messagesWithBody,
  openConversation,
  openSignedIn,
  sendMessage,
  text,
  useServerAndBrowser,
} from './harness.mjs';

const NEW_TERM = { kind: 'club', text: 'Ashby Otters' };
const CATEGORIES = ['document', 'image', 'audio', 'video'];
const SUSPEND_REASON = 'A court hearing about contact is due next month.';

function escapeRegExp(value) {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Returns the fieldset whose legend is the catalogue text of `key`. */
function group(scope, key, params) {
  return scope.getByRole('group', { name: text(key, params), exact: true });
}

/** Returns the numbered row groups whose legend is the catalogue text of `legendKey`. */
function rowGroups(scope, legendKey) {
  const prefix = escapeRegExp(text(legendKey, { position: '' }));
  return scope.getByRole('group', { name: new RegExp(`^${prefix}\\d+$`) });
}

function lettersRegion(page) {
  return page.getByRole('region', { name: text('letters.title'), exact: true });
}

function termsGroup(page) {
  return group(page, 'agreement_page.terms_legend');
}

function birthMedia(page) {
  return group(page, 'agreement_page.media_legend').getByRole('group', {
    name: text('invitations.side.birth'),
    exact: true,
  });
}

function labelled(scope, key) {
  return scope.getByLabel(text(key), { exact: true });
}

async function isFocused(locator) {
  return locator.evaluate((element) => element === document.activeElement);
}

async function containsFocus(locator) {
  return locator.evaluate((element) => element.contains(document.activeElement));
}

/** From my conversations, opens the contact link's agreement page and waits for the form. */
async function openAgreement(page) {
  await page
    .getByRole('navigation')
    .getByRole('link', { name: text('nav.conversations'), exact: true })
    .click();
  await heading(page, 'conversations.title').waitFor();
  await openConversation(page, 'contact_link');
  await lettersRegion(page)
    .getByRole('link', { name: text('letters.agreement_link'), exact: true })
    .click();
  await heading(page, 'agreement_page.title').waitFor();
  await termsGroup(page).waitFor();
}

async function reloadAgreement(page) {
  await page.reload();
  await heading(page, 'agreement_page.title').waitFor();
  await termsGroup(page).waitFor();
}

async function save(page) {
  await page.getByRole('button', { name: text('agreement_page.save'), exact: true }).click();
}

/** Returns the kind and text of every protected term row, in order. */
async function shownTerms(page) {
  const rows = rowGroups(termsGroup(page), 'agreement_page.term_legend');
  const terms = [];
  for (let index = 0; index < (await rows.count()); index += 1) {
    const row = rows.nth(index);
    terms.push({
      kind: await labelled(row, 'agreement_page.term_kind_label').inputValue(),
      text: await labelled(row, 'agreement_page.term_text_label').inputValue(),
    });
  }
  return terms;
}

/** Returns the exchange row whose month is `month` (1 to 12). */
async function exchangeRow(page, month) {
  const schedule = group(page, 'agreement_page.schedule_legend');
  const rows = rowGroups(schedule, 'agreement_page.exchange_legend');
  for (let index = 0; index < (await rows.count()); index += 1) {
    const row = rows.nth(index);
    if ((await labelled(row, 'agreement_page.month_label').inputValue()) === String(month)) {
      return row;
    }
  }
  return assert.fail(`no exchange row for month ${month}`);
}

/** Returns the categories ticked for the birth family. */
async function birthCategories(page) {
  const ticked = [];
  for (const category of CATEGORIES) {
    if (await labelled(birthMedia(page), `agreement_page.media.${category}`).isChecked()) {
      ticked.push(category);
    }
  }
  return ticked;
}

function statusBadge(page) {
  return page.locator('.agreement-status__now .badge');
}

/** Fills the status reason (empty to leave it out) and presses the button of `status`. */
async function changeStatus(page, status, reason) {
  await labelled(page, 'agreement_page.reason_label').fill(reason);
  const name = text(`agreement_page.change.${status}`);
  await page.getByRole('button', { name, exact: true }).click();
}

/** Returns today's date in Europe/London, where exchanges fall, as `{ year, month, day }`. */
function londonToday() {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/London',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
  }).formatToParts(new Date());
  const part = (type) => Number(parts.find((each) => each.type === type).value);
  return { year: part('year'), month: part('month'), day: part('day') };
}

describe('contact agreement page', () => {
  const env = useServerAndBrowser();

  // Each practitioner sign-in waits for a fresh TOTP code, so the tests share one.
  let practitioner = null;
  async function practitionerPage() {
    practitioner ??= await openSignedIn(env, 'la_practitioner');
    return practitioner.page;
  }

  e2eTest(env, 'agreement edited, kept and suspended', async () => {
    const page = await practitionerPage();
    await openAgreement(page);
    const review = group(page, 'agreement_page.review_legend');
    assert.ok(
      await labelled(review, 'agreement_page.review.every_item').isChecked(),
      'demo review level',
    );
    const before = await shownTerms(page);
    assert.equal(before.length, 4, `demo protected terms ${JSON.stringify(before)}`);
    await expectNoViolations(page, 'agreement page');

    // A new term row takes focus, and gets a kind and a text.
    const terms = termsGroup(page);
    await terms.getByRole('button', { name: text('agreement_page.add_term'), exact: true }).click();
    const newRow = rowGroups(terms, 'agreement_page.term_legend').last();
    const newKind = labelled(newRow, 'agreement_page.term_kind_label');
    assert.ok(await isFocused(newKind), 'focus moves to the new term');
    await newKind.selectOption(NEW_TERM.kind);
    await labelled(newRow, 'agreement_page.term_text_label').fill(NEW_TERM.text);

    for (const category of CATEGORIES) {
      const box = labelled(birthMedia(page), `agreement_page.media.${category}`);
      if (category === 'document') await box.check();
      else await box.uncheck();
    }
    const september = await exchangeRow(page, 9);
    await labelled(september, 'agreement_page.day_label').fill('15');
    await save(page);
    await page.getByText(text('agreement_page.saved'), { exact: true }).waitFor();

    await reloadAgreement(page);
    const savedTerms = await shownTerms(page);
    assert.deepEqual(savedTerms, [...before, NEW_TERM], 'protected terms after saving');
    assert.deepEqual(await birthCategories(page), ['document'], 'birth family files');
    const septemberKept = await exchangeRow(page, 9);
    assert.equal(
      await labelled(septemberKept, 'agreement_page.day_label').inputValue(),
      '15',
      'September exchange day',
    );

    // A term without text is rejected with its error in the terms group,
    // and the review level changed with it is not stored either.
    await labelled(review, 'agreement_page.review.none').check();
    await terms.getByRole('button', { name: text('agreement_page.add_term'), exact: true }).click();
    const emptyRow = rowGroups(terms, 'agreement_page.term_legend').last();
    await labelled(emptyRow, 'agreement_page.term_kind_label').selectOption('other');
    await save(page);
    const message = text('error.request.invalid_field.protected_terms');
    await terms.getByText(message, { exact: true }).waitFor();
    const emptyText = labelled(emptyRow, 'agreement_page.term_text_label');
    assert.ok(await isFocused(emptyText), 'focus moves to the term without text');
    assert.equal(await emptyText.getAttribute('aria-invalid'), 'true', 'empty term marked');
    const description = await terms.evaluate((fieldset) =>
      fieldset
        .getAttribute('aria-describedby')
        .split(' ')
        .map((id) => document.getElementById(id)?.textContent ?? '')
        .join(' '),
    );
    assert.ok(description.includes(message), `terms group description "${description}"`);
    await expectNoViolations(page, 'agreement page with an error');

    await reloadAgreement(page);
    assert.deepEqual(await shownTerms(page), savedTerms, 'terms after the rejected save');
    assert.ok(
      await labelled(review, 'agreement_page.review.every_item').isChecked(),
      'review level after the rejected save',
    );

    // Suspending needs a reason, which the birth parent then sees.
    await changeStatus(page, 'suspended', '');
    const reasonField = labelled(page, 'agreement_page.reason_label');
    await page.getByText(text('agreement_page.reason_missing'), { exact: true }).waitFor();
    assert.ok(await isFocused(reasonField), 'focus moves to the missing reason');
    await changeStatus(page, 'suspended', SUSPEND_REASON);
    await page.getByText(text('agreement_page.changed.suspended'), { exact: true }).waitFor();
    assert.equal(await statusBadge(page).innerText(), text('agreement_page.status.suspended'));
    await page.getByText(text('agreement.reason', { reason: SUSPEND_REASON })).waitFor();

    const birth = await openSignedIn(env, 'birth_parent');
    await openConversation(birth.page, 'contact_link');
    const letters = lettersRegion(birth.page);
    await letters.getByText(text('agreement.suspended'), { exact: true }).waitFor();
    const shownReason = text('agreement.reason', { reason: SUSPEND_REASON });
    await letters.getByText(shownReason, { exact: true }).waitFor();
    const write = letters.getByRole('button', { name: text('letters.write'), exact: true });
    assert.equal(await write.count(), 0, '"Write a letter" while suspended');
    const agreementLinks = letters.getByRole('link', { name: text('letters.agreement_link') });
    assert.equal(await agreementLinks.count(), 0, 'agreement page link for a family member');

    // A family member who opens the page's address is told it is not theirs.
    await birth.page.goto(page.url());
    await heading(birth.page, 'agreement_page.title').waitFor();
    await birth.page.getByText(text('agreement_page.not_supervisor'), { exact: true }).waitFor();
    assert.equal(await termsGroup(birth.page).count(), 0, 'agreement form for a family member');

    // Made active again without a reason, the link lets the family write.
    await changeStatus(page, 'active', '');
    await page.getByText(text('agreement_page.changed.active'), { exact: true }).waitFor();
    assert.equal(await statusBadge(page).innerText(), text('agreement_page.status.active'));
    await birth.page.goBack();
    await lettersRegion(birth.page)
      .getByRole('button', { name: text('letters.write'), exact: true })
      .waitFor();
  });

  e2eTest(env, 'live messages follow the agreement', async () => {
    const page = await practitionerPage();
    await openAgreement(page);
    const live = labelled(page, 'agreement_page.live_messages');
    assert.ok(await live.isChecked(), 'the demo link allows live messages');
    await live.uncheck();
    await save(page);
    await page.getByText(text('agreement_page.saved'), { exact: true }).waitFor();

    const birth = await openSignedIn(env, 'birth_parent');
    await openConversation(birth.page, 'contact_link');
    const composer = birth.page.getByLabel(text('conversation.composer_label'), { exact: true });
    const closed = birth.page.getByText(text('conversation.letters_only'), { exact: true });
    await closed.waitFor();
    await eventually(async () => assert.ok(await composer.isDisabled(), 'message box while off'));
    const write = lettersRegion(birth.page).getByRole('button', { name: text('letters.write') });
    await write.waitFor();
    await expectNoViolations(birth.page, 'contact link with live messages off');

    // Turned on again, the open page hears of it and the box opens.
    await reloadAgreement(page);
    await labelled(page, 'agreement_page.live_messages').check();
    await save(page);
    await page.getByText(text('agreement_page.saved'), { exact: true }).waitFor();
    await closed.waitFor({ state: 'hidden' });
    await eventually(async () => assert.ok(await composer.isEnabled(), 'message box while on'));
    const body = 'Thank you for the drawings.';
    await sendMessage(birth.page, body);
    await messagesWithBody(birth.page, body).waitFor();
  });

  e2eTest(env, 'exchanges due on the review page', async () => {
    const page = await practitionerPage();
    await openAgreement(page);
    const agreementUrl = page.url();
    const exchanges = () =>
      page.getByRole('region', { name: text('exchanges.title'), exact: true });
    const openReviewPage = async () => {
      await page
        .getByRole('navigation')
        .getByRole('link', { name: text('nav.review_queue') })
        .click();
      await heading(page, 'review_queue.title').waitFor();
    };

    // With letters on request, no exchange falls due.
    await labelled(page, 'agreement_page.schedule_mode.on_request').check();
    await save(page);
    await page.getByText(text('agreement_page.saved'), { exact: true }).waitFor();
    await openReviewPage();
    await exchanges().getByText(text('exchanges.empty'), { exact: true }).waitFor();

    // An exchange from the birth family today, or on the 28th late in a
    // month, is due now.
    await page.goto(agreementUrl);
    await heading(page, 'agreement_page.title').waitFor();
    await labelled(page, 'agreement_page.schedule_mode.fixed').check();
    const schedule = group(page, 'agreement_page.schedule_legend');
    await schedule
      .getByRole('button', { name: text('agreement_page.add_exchange'), exact: true })
      .click();
    const today = londonToday();
    const day = Math.min(today.day, 28);
    const row = rowGroups(schedule, 'agreement_page.exchange_legend').last();
    assert.ok(
      await isFocused(labelled(row, 'agreement_page.month_label')),
      'focus moves to the new exchange',
    );
    await labelled(row, 'agreement_page.month_label').selectOption(String(today.month));
    await labelled(row, 'agreement_page.day_label').fill(String(day));
    await labelled(row, 'agreement_page.writer_label').selectOption('birth');
    await save(page);
    await page.getByText(text('agreement_page.saved'), { exact: true }).waitFor();

    await openReviewPage();
    const item = exchanges().getByRole('listitem').first();
    const { users } = env.server;
    const link = item.getByRole('link');
    await link.waitFor();
    const linkName = await link.innerText();
    for (const key of ['adoptive_parent', 'birth_parent']) {
      const name = users[key].display_name;
      assert.ok(linkName.includes(name), `link name "${linkName}" names ${name}`);
    }
    const date = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeZone: 'UTC' }).format(
      new Date(Date.UTC(today.year, today.month - 1, day)),
    );
    await item
      .getByText(text('exchanges.meta', { side: text('letters.side.birth'), date }), {
        exact: true,
      })
      .waitFor();
    await item.getByText(text('exchanges.state.due'), { exact: true }).waitFor();
    assert.equal(await exchanges().getByRole('listitem').count(), 1, 'exchanges listed');
    await expectNoViolations(page, 'review page with an exchange due');

    await link.click();
    await page.getByRole('log').waitFor();
  });

  e2eTest(env, 'ending the link asks first', async () => {
    const page = await practitionerPage();
    await openAgreement(page);
    const end = page.getByRole('button', {
      name: text('agreement_page.change.ended'),
      exact: true,
    });
    await changeStatus(page, 'ended', '');
    await page.getByText(text('agreement_page.reason_missing'), { exact: true }).waitFor();

    const reason = 'The child asked to stop letters, and the court agreed.';
    await changeStatus(page, 'ended', reason);
    const confirmTitle = page.getByRole('heading', {
      name: text('agreement_page.end_confirm_title'),
      exact: true,
    });
    await confirmTitle.waitFor();
    assert.ok(await isFocused(confirmTitle), 'focus moves to the confirmation');
    await expectNoViolations(page, 'agreement page asking to confirm the end');

    // Cancelling keeps the link active and returns focus to "End the link".
    const cancel = text('agreement_page.end_cancel');
    await page.getByRole('button', { name: cancel, exact: true }).click();
    assert.ok(await isFocused(end), 'focus returns to "End the link"');
    assert.equal(await statusBadge(page).innerText(), text('agreement_page.status.active'));

    await end.click();
    const confirm = text('agreement_page.end_confirm');
    await page.getByRole('button', { name: confirm, exact: true }).click();
    await page.getByText(text('agreement_page.changed.ended'), { exact: true }).waitFor();
    assert.equal(await statusBadge(page).innerText(), text('agreement_page.status.ended'));
    await page.getByText(text('agreement_page.ended_read_only'), { exact: true }).waitFor();
    assert.equal(await labelled(page, 'agreement_page.reason_label').count(), 0, 'reason field');
    const saveButton = page.getByRole('button', { name: text('agreement_page.save') });
    assert.equal(await saveButton.count(), 0, 'save button of an ended link');
    const review = group(page, 'agreement_page.review_legend');
    assert.ok(
      await labelled(review, 'agreement_page.review.every_item').isDisabled(),
      'agreement controls of an ended link',
    );
    assert.ok(await containsFocus(page.locator('.agreement-status')), 'focus after ending');

    const birth = await openSignedIn(env, 'birth_parent');
    await openConversation(birth.page, 'contact_link');
    await lettersRegion(birth.page)
      .getByText(text('agreement.ended'), { exact: true })
      .waitFor();
    await eventually(async () => {
      const write = lettersRegion(birth.page).getByRole('button', { name: text('letters.write') });
      assert.equal(await write.count(), 0, '"Write a letter" after the end');
    });
  });
});
