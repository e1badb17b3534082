// Invitations into the demo contact link. The supervising practitioner
// invites a birth-family grandparent, and the test takes the link from the
// email in the server's outbox. The invited person opens it in a fresh
// browser, chooses news email, which starts unticked, chooses a password
// by keyboard alone and sees that the account waits for confirmation.
// Their sign-in is rejected as pending until the practitioner confirms
// them, and then they sign in and see the link. A used link and a made-up
// one each get a page that explains, with no form.
// Expiry is covered by the Rust suite, because it needs the clock moved on
// seven days.

import assert from 'node:assert/strict';
import { describe } from 'node:test';

import {
  conversationCard,
  e2eTest,
  eventually,
  expectNoViolations,
  heading,
  openConversation,
  openPage,
  openSignedIn,
  PHONE,
  signIn,
  submitPassword,
  text,
  useServerAndBrowser,
} from './harness.mjs';

const RELATIVE = {
  email: 'robin.e2e@family.example',
  display_name: 'Robin Ellis',
  password: 'apple kettle harbour lantern',
};

/** How long the server may take to write the invitation email into its outbox. */
const EMAIL_TIMEOUT_MS = 30_000;

const BIRTH_RELATIONSHIPS = [
  'parent',
  'grandparent',
  'sibling',
  'sibling_placed_elsewhere',
  'aunt_or_uncle',
  'other_relative',
];

function invitationsRegion(page) {
  return page.getByRole('region', { name: text('invitations.title'), exact: true });
}

function invitationCard(page, name) {
  return invitationsRegion(page).getByRole('listitem').filter({ hasText: name });
}

async function isFocused(locator) {
  return locator.evaluate((element) => element === document.activeElement);
}

/** Returns the texts of the relationship list's options, the prompt first. */
function relationshipOptions(page) {
  return page
    .getByLabel(text('invitations.relationship_label'), { exact: true })
    .locator('option')
    .allInnerTexts();
}

/** Waits for the invitation email to `address` and returns the link it carries. */
async function invitationLink(env, address) {
  return eventually(async () => {
    const email = await env.server.newestEmailTo(address);
    assert.ok(email, `no email to ${address} in the outbox yet`);
    // The token must end at a line break, so a file still being written never matches.
    const match = email.body.match(/(\S+\/invitation#[A-Za-z0-9_-]+)\r?\n/);
    assert.ok(match, `no invitation link in the email:\n${email.body}`);
    return match[1];
  }, EMAIL_TIMEOUT_MS);
}

/** Fills the invitation form for `person` and submits it. */
async function invite(page, person) {
  const region = invitationsRegion(page);
  await region.getByLabel(text('invitations.email_label'), { exact: true }).fill(person.email);
  const name = region.getByLabel(text('invitations.name_label'), { exact: true });
  await name.fill(person.display_name);
  await region.getByLabel(text('invitations.side.birth'), { exact: true }).check();
  await region
    .getByLabel(text('invitations.relationship_label'), { exact: true })
    .selectOption({ label: text('relationship.grandparent') });
  await region.getByRole('button', { name: text('invitations.submit'), exact: true }).click();
}

/** Asserts that the invitation page shows the page of `kind` (used or unknown) and no form. */
async function expectUnusablePage(page, kind) {
  await heading(page, `invitation.${kind}_title`).waitFor();
  await page.getByText(text(`invitation.${kind}_body`), { exact: true }).waitFor();
  const passwords = page.getByLabel(text('invitation.password_label'));
  assert.equal(await passwords.count(), 0, `password field on the ${kind} page`);
}

describe('invitations into a contact link', () => {
  const env = useServerAndBrowser();

  e2eTest(env, 'invited relative accepts and is confirmed', async () => {
    const practitioner = await openSignedIn(env, 'la_practitioner');
    const { page } = practitioner;
    await openConversation(page, 'contact_link');
    const region = invitationsRegion(page);
    await region.getByRole('heading', { name: text('invitations.invite_heading') }).waitFor();

    // The relationships offered follow the family chosen.
    assert.deepEqual(
      await relationshipOptions(page),
      [text('invitations.relationship_side_first')],
      'relationships before a family is chosen',
    );
    await region.getByLabel(text('invitations.side.adoptive'), { exact: true }).check();
    assert.deepEqual(
      await relationshipOptions(page),
      [
        text('invitations.relationship_choose'),
        text('relationship.adoptive_parent'),
        text('relationship.adopted_child'),
      ],
      'adoptive relationships',
    );
    await region.getByLabel(text('invitations.side.birth'), { exact: true }).check();
    assert.deepEqual(
      await relationshipOptions(page),
      [
        text('invitations.relationship_choose'),
        ...BIRTH_RELATIONSHIPS.map((value) => text(`relationship.${value}`)),
      ],
      'birth relationships',
    );

    // An address the server rejects gets its error next to the email field.
    const emailField = region.getByLabel(text('invitations.email_label'), { exact: true });
    await invite(page, { ...RELATIVE, email: 'robin.e2e@family' });
    await region.getByText(text('error.request.invalid_field.email'), { exact: true }).waitFor();
    assert.equal(await emailField.getAttribute('aria-invalid'), 'true', 'email marked invalid');
    assert.ok(await isFocused(emailField), 'focus moves to the rejected email field');
    await expectNoViolations(page, 'invitation form with an error');

    await invite(page, RELATIVE);
    await region.getByText(text('invitations.sent', { email: RELATIVE.email })).waitFor();
    const card = invitationCard(page, RELATIVE.display_name);
    await card.getByText(text('invitations.status.waiting'), { exact: true }).waitFor();

    // A second invitation to the same address is rejected while the first waits.
    await invite(page, RELATIVE);
    await region.getByText(text('invitations.conflict'), { exact: true }).waitFor();

    // The invited person opens the emailed link. The token leaves the address bar at once.
    const link = await invitationLink(env, RELATIVE.email);
    assert.ok(link.startsWith(`${env.server.address}/invitation#`), `link ${link}`);
    const relative = await openPage(env, 'invited relative');
    await relative.page.goto(link);
    await heading(relative.page, 'invitation.greeting', { name: RELATIVE.display_name }).waitFor();
    const shownUrl = new URL(relative.page.url());
    assert.equal(shownUrl.pathname, '/invitation', 'path after opening the link');
    assert.equal(shownUrl.hash, '', 'token left in the address bar');
    await expectNoViolations(relative.page, 'invitation form');

    // Two different passwords are caught before anything is sent.
    const password = relative.page.getByLabel(text('invitation.password_label'), { exact: true });
    const repeat = relative.page.getByLabel(text('invitation.repeat_label'), { exact: true });
    await password.fill(RELATIVE.password);
    await repeat.fill(`${RELATIVE.password}!`);
    await relative.page.getByRole('button', { name: text('invitation.submit') }).click();
    await relative.page.getByText(text('invitation.repeat_mismatch'), { exact: true }).waitFor();
    assert.ok(await isFocused(repeat), 'focus moves to the repeated password');
    await expectNoViolations(relative.page, 'invitation form with an error');

    // News email is the person's choice, off until they tick it.
    const news = relative.page.getByLabel(text('invitation.marketing_label'), { exact: true });
    assert.equal(await news.isChecked(), false, 'news ticked before the person chose it');
    await news.check();

    // The password is set by keyboard alone: Tab from the first field, Enter to submit.
    await password.fill('');
    await repeat.fill('');
    await password.focus();
    await relative.page.keyboard.type(RELATIVE.password);
    await relative.page.keyboard.press('Tab');
    assert.ok(await isFocused(repeat), 'Tab moves from the password to the repeated password');
    await relative.page.keyboard.type(RELATIVE.password);
    await relative.page.keyboard.press('Enter');
    await heading(relative.page, 'invitation.pending_title').waitFor();
    const pendingHeading = heading(relative.page, 'invitation.pending_title');
    assert.ok(await isFocused(pendingHeading), 'focus moves to the pending page heading');
    await relative.page.getByText(text('invitation.pending_next'), { exact: true }).waitFor();
    await expectNoViolations(relative.page, 'invitation pending page');

    // Until the practitioner confirms, sign-in shows that the account is pending.
    await relative.page.getByRole('link', { name: text('invitation.sign_in_link') }).click();
    await heading(relative.page, 'signin.title').waitFor();
    await submitPassword(relative.page, RELATIVE);
    await relative.page.getByText(text('error.auth.account_pending'), { exact: true }).waitFor();

    // The practitioner sees the accepted invitation waiting and confirms it.
    await eventually(async () => {
      await page.reload();
      const status = text('invitations.status.accepted');
      await card.getByText(status, { exact: true }).waitFor({ timeout: 2_000 });
    });
    await card.getByText(text('invitations.confirm_hint'), { exact: true }).waitFor();
    await expectNoViolations(page, 'invitations list with a confirmation waiting');
    const confirmName = `${text('invitations.confirm')} ${text('invitations.confirm_context', {
      name: RELATIVE.display_name,
    })}`;
    await card.getByRole('button', { name: confirmName, exact: true }).click();
    const confirmed = text('invitations.confirmed', { name: RELATIVE.display_name });
    await region.getByText(confirmed, { exact: true }).waitFor();
    await card.getByText(text('invitations.status.confirmed'), { exact: true }).waitFor();
    assert.equal(await card.getByRole('button').count(), 0, 'confirm button after confirming');

    // The relative signs in and finds the contact link.
    await signIn(env, relative, RELATIVE);
    const linkCard = conversationCard(relative.page, 'contact_link');
    assert.equal(await linkCard.count(), 1, 'contact links listed for the new relative');
    await openConversation(relative.page, 'contact_link');
    const title = await relative.page.locator('h1').innerText();
    assert.ok(title.startsWith(text('conversations.kind.contact_link')), `heading "${title}"`);

    // The news chosen when accepting shows in the notification settings.
    await relative.page
      .getByRole('banner')
      .getByRole('link', { name: text('nav.notifications'), exact: true })
      .click();
    await heading(relative.page, 'notifications.title').waitFor();
    const newsSetting = relative.page.getByLabel(text('notifications.marketing_label'), {
      exact: true,
    });
    await newsSetting.waitFor();
    await eventually(async () => {
      assert.equal(await newsSetting.isChecked(), true, 'news chosen when accepting');
    });

    // The same link, opened again, shows the page of a used link.
    const again = await openPage(env, 'used link');
    await again.page.goto(link);
    await expectUnusablePage(again.page, 'used');
    await again.page.getByRole('link', { name: text('invitation.sign_in_link') }).waitFor();
    await expectNoViolations(again.page, 'used invitation page');
  });

  e2eTest(env, 'unknown invitation link page', async () => {
    const { page } = await openPage(env, 'made-up link', { viewport: PHONE });
    await page.goto(`${env.server.address}/invitation#NotARealInvitationToken0000000000000000000`);
    await expectUnusablePage(page, 'unknown');
    assert.equal(new URL(page.url()).hash, '', 'token left in the address bar');
    await expectNoViolations(page, 'unknown invitation page (phone)');
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    assert.ok(overflow <= 0, `unknown invitation page scrolls sideways by ${overflow} px`);

    // A link cut off before its `#` has no token at all.
    await page.goto(`${env.server.address}/invitation`);
    await expectUnusablePage(page, 'unknown');
  });
});
