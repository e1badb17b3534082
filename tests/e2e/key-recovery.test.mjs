// Key recovery for users who lost their password. The demo's first
// platform admin requests a recovery on the Account recovery page and
// cannot approve it. The second admin approves it on their own page. The
// test then runs the operator's command with the demo's recovery private
// key, takes the link from the email in the outbox and opens it in a
// fresh browser, where the user chooses a new password, and a worker also
// sets up a new authenticator app. The birth parent then reads the
// contact link's history with the new password, while every response the
// admins' browsers received stays free of it. A used link gets a page
// that explains, with no form.
// The lapse of a request after 7 days and of a link after 24 hours is
// checked by the Rust unit tests of the recovery states in core, because
// it needs the clock moved on.

import assert from 'node:assert/strict';
import path from 'node:path';
import { describe } from 'node:test';

import {
  e2eTest,
  eventually,
  expectNoViolations,
  expectSingleMessage,
  heading,
  openConversation,
  openPage,
  openSignedIn,
  PHONE,
  sendMessage,
  signIn,
  submitPassword,
  text,
  uniqueBody,
  useServerAndBrowser,
} from './harness.mjs';
import { freshTotp, wrongTotp } from './totp.mjs';

/** The recovery private key that `serve --demo` writes into its data directory. */
const DEMO_PRIVATE_KEY_FILE = 'recovery-private-key.development';

/** How long an email may take to reach the outbox. */
const EMAIL_TIMEOUT_MS = 30_000;

/** The subject of the email that notifies an account's owner of a recovery request. */
const REQUESTED_SUBJECT = 'A recovery of your KinLink account was asked for';

const REASON = 'Ticket 4411: identity checked by a video call with their practitioner';
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function isFocused(locator) {
  return locator.evaluate((element) => element === document.activeElement);
}

async function expectNoHorizontalScroll(page, pageName) {
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  assert.ok(overflow <= 0, `${pageName} scrolls sideways by ${overflow} px`);
}

function region(page, key) {
  return page.getByRole('region', { name: text(key), exact: true });
}

/** Returns the card of the recovery of the account shown as `name`. */
function recoveryCard(page, name) {
  return region(page, 'key_recoveries.list_heading')
    .getByRole('listitem')
    .filter({ has: page.getByRole('heading', { name, exact: true }) });
}

/** Returns the accessible name of a card's button: its text, then whose recovery it acts on. */
function cardButtonName(labelKey, name) {
  return `${text(labelKey)} ${text('key_recoveries.button_context', { name })}`;
}

/**
 * Keeps the body of every HTTP response and WebSocket frame the page of
 * `record` receives from now on, as promises of `{ url, content }` in
 * `record.received`.
 */
function recordReceived(record) {
  record.received = [];
  record.context.on('response', (response) => {
    const body = response
      .body()
      .then((bytes) => bytes.toString('utf8'))
      .catch(() => '');
    record.received.push(body.then((content) => ({ url: response.url(), content })));
  });
  record.page.on('websocket', (socket) => {
    socket.on('framereceived', (frame) => {
      const content = String(frame.payload);
      record.received.push(Promise.resolve({ url: socket.url(), content }));
    });
  });
}

/** Returns the addresses of the responses and frames `record` received that contain `marker`. */
async function receivedWith(record, marker) {
  const received = await Promise.all(record.received);
  assert.ok(received.length > 0, `responses recorded for ${record.label}`);
  return received.filter(({ content }) => content.includes(marker)).map(({ url }) => url);
}

/** Opens a page for the demo platform admin `key` that records what it receives, and signs in. */
async function openRecordedAdmin(env, key, options = {}) {
  const record = await openPage(env, key, options);
  recordReceived(record);
  await signIn(env, record, env.server.users[key], { hasConversations: false });
  return record;
}

/** Opens the Account recovery page from the navigation and waits for its list. */
async function openRecoveriesPage(page) {
  await page
    .getByRole('navigation', { name: text('nav.label') })
    .getByRole('link', { name: text('nav.key_recoveries'), exact: true })
    .click();
  await heading(page, 'key_recoveries.title').waitFor();
  await region(page, 'key_recoveries.list_heading').getByRole('listitem').first().waitFor();
}

/** Reads the Account recovery page again, for the steps other browsers took meanwhile. */
async function reloadRecoveriesPage(page) {
  await page.reload();
  await heading(page, 'key_recoveries.title').waitFor();
  await region(page, 'key_recoveries.list_heading').getByRole('listitem').first().waitFor();
}

/** Fills the request form with `email` and `reason` and submits it. */
async function askForRecovery(page, email, reason = REASON) {
  const form = region(page, 'key_recoveries.request_heading');
  await form.getByLabel(text('key_recoveries.email_label'), { exact: true }).fill(email);
  await form.getByLabel(text('key_recoveries.reason_label'), { exact: true }).fill(reason);
  await form
    .getByRole('button', { name: text('key_recoveries.request_submit'), exact: true })
    .click();
}

/** Approves the recovery of `name` from the Account recovery page and waits for the notice. */
async function approveRecovery(page, name) {
  const card = recoveryCard(page, name);
  await card.getByRole('button', { name: cardButtonName('key_recoveries.approve', name) }).click();
  const approved = text('key_recoveries.approved_notice', { name });
  await page.getByText(approved, { exact: true }).waitFor();
  await card.getByText(text('key_recoveries.state.approved'), { exact: true }).waitFor();
}

/** Runs the operator's command for recovery `id` with the demo's recovery private key. */
function sendLink(env, id) {
  const keyFile = path.join(env.server.dataDir, DEMO_PRIVATE_KEY_FILE);
  return env.server.runCommand(['recovery', 'send-link', '--request', id, '--private-key', keyFile]);
}

/**
 * Waits until the newest email to `address` notifies its owner of the
 * recovery request, so that this email cannot arrive after the link.
 */
async function waitForRequestedEmail(env, address) {
  await eventually(async () => {
    const email = await env.server.newestEmailTo(address);
    assert.equal(email?.headers.subject, REQUESTED_SUBJECT, `newest email to ${address}`);
  }, EMAIL_TIMEOUT_MS);
}

/** Waits for the recovery email to `address` and returns the link it carries. */
async function recoveryLink(env, address) {
  return eventually(async () => {
    const email = await env.server.newestEmailTo(address);
    assert.ok(email, `no email to ${address} in the outbox yet`);
    // The token must end at a line break, so a file still being written never matches.
    const match = email.body.match(/(\S+\/recover#[A-Za-z0-9_-]+)\r?\n/);
    assert.ok(match, `no recovery link in the newest email to ${address}`);
    return match[1];
  }, EMAIL_TIMEOUT_MS);
}

/**
 * Opens `link` in a fresh browser context and returns the page's record,
 * which records what it receives, with `requestUrls`, the address of
 * every request the page made.
 */
async function openLink(env, label, link) {
  const record = await openPage(env, label);
  recordReceived(record);
  record.requestUrls = [];
  record.page.on('request', (request) => record.requestUrls.push(request.url()));
  await record.page.goto(link);
  return record;
}

/** Asserts that the link's token is neither in the address bar nor in any request's address. */
function expectTokenHidden(record, link) {
  const token = new URL(link).hash.slice(1);
  const addressBar = new URL(record.page.url());
  assert.equal(addressBar.pathname, '/recover', 'path after opening the link');
  assert.equal(addressBar.hash, '', 'token left in the address bar');
  const leaks = record.requestUrls.filter((url) => url.includes(token));
  assert.deepEqual(leaks, [], 'requests with the token in their address');
}

/** Fills the new password and its repetition on the link's page. */
async function fillNewPassword(page, password, repeated = password) {
  await page.getByLabel(text('recover.password_label'), { exact: true }).fill(password);
  await page.getByLabel(text('recover.repeat_label'), { exact: true }).fill(repeated);
}

describe('key recovery', () => {
  const env = useServerAndBrowser();
  /** The admins' recorded pages, signed in once for the whole file, by demo key. */
  const admins = {};

  async function adminPage(key, options) {
    admins[key] ??= await openRecordedAdmin(env, key, options);
    return admins[key];
  }

  e2eTest(env, 'birth parent recovers with two admins', async () => {
    const { users } = env.server;
    const birthUser = users.birth_parent;
    const newPassword = 'pebble orchard lantern quietly';

    // The families exchange messages that carry a marker no admin may see.
    const marker = uniqueBody('recovery-marker');
    const letter = `Emma learned to ride her bike this week ${marker}`;
    const reply = `That is wonderful news, thank you ${marker}`;
    const adoptive = await openSignedIn(env, 'adoptive_parent');
    const birth = await openSignedIn(env, 'birth_parent');
    await openConversation(adoptive.page, 'contact_link');
    await openConversation(birth.page, 'contact_link');
    // Each side has the link open, so a message shows at once on the other.
    await sendMessage(adoptive.page, letter);
    await expectSingleMessage(birth.page, letter, users.adoptive_parent.display_name);
    await sendMessage(birth.page, reply);
    await expectSingleMessage(adoptive.page, reply, birthUser.display_name);
    await expectSingleMessage(birth.page, reply, text('conversation.you'));

    // The first admin finds the page in the navigation.
    const operator = await adminPage('platform_admin');
    const op = operator.page;
    await openRecoveriesPage(op);
    await expectNoViolations(op, 'account recovery page');

    // Empty fields are each named, and focus goes to the first.
    const form = region(op, 'key_recoveries.request_heading');
    const emailField = form.getByLabel(text('key_recoveries.email_label'), { exact: true });
    await form
      .getByRole('button', { name: text('key_recoveries.request_submit'), exact: true })
      .click();
    await form.getByText(text('key_recoveries.email_missing'), { exact: true }).waitFor();
    await form.getByText(text('key_recoveries.reason_missing'), { exact: true }).waitFor();
    assert.ok(await isFocused(emailField), 'focus moves to the empty email field');

    // An address without an account is named at the email field.
    await askForRecovery(op, 'nobody.e2e@family.example');
    await form.getByText(text('key_recoveries.email_unknown'), { exact: true }).waitFor();
    assert.equal(await emailField.getAttribute('aria-invalid'), 'true', 'email marked invalid');
    assert.ok(await isFocused(emailField), 'focus moves to the rejected email');
    await expectNoViolations(op, 'recovery request with an error');

    // No admin may request the recovery of their own account.
    await askForRecovery(op, users.platform_admin.email);
    await form.getByText(text('key_recoveries.request_own_account'), { exact: true }).waitFor();

    // The recovery of the birth parent waits for a different admin.
    await askForRecovery(op, birthUser.email);
    const requested = text('key_recoveries.requested_notice', {
      name: birthUser.display_name,
      email: birthUser.email,
    });
    await op.getByText(requested, { exact: true }).waitFor();
    assert.equal(await emailField.inputValue(), '', 'form emptied after asking');
    const opCard = recoveryCard(op, birthUser.display_name);
    const cardHeading = opCard.getByRole('heading', { name: birthUser.display_name, exact: true });
    assert.ok(await isFocused(cardHeading), 'focus moves to the new recovery');
    await opCard.getByText(birthUser.email, { exact: true }).waitFor();
    await opCard.getByText(text('key_recoveries.state.requested'), { exact: true }).waitFor();
    await opCard
      .getByText(text('key_recoveries.reason', { reason: REASON }), { exact: true })
      .waitFor();
    await opCard.getByText(text('key_recoveries.wait_other_admin'), { exact: true }).waitFor();
    const approveName = cardButtonName('key_recoveries.approve', birthUser.display_name);
    assert.equal(
      await opCard.getByRole('button', { name: approveName }).count(),
      0,
      'Approve button on my own request',
    );
    const cancelName = cardButtonName('key_recoveries.cancel', birthUser.display_name);
    await opCard.getByRole('button', { name: cancelName, exact: true }).waitFor();
    assert.equal(await opCard.locator('.command-line').count(), 0, 'command before approval');
    await expectNoViolations(op, 'account recovery page with a request');

    const id = await opCard.getAttribute('data-recovery-id');
    assert.match(id, UUID_PATTERN, 'recovery id on the card');

    // A second request for the same account waits on the first.
    await askForRecovery(op, birthUser.email);
    await form.getByText(text('key_recoveries.request_conflict'), { exact: true }).waitFor();

    // The second admin, on a phone, approves it and is shown the operator's command.
    const second = await adminPage('second_platform_admin', { viewport: PHONE });
    const sp = second.page;
    await openRecoveriesPage(sp);
    const spCard = recoveryCard(sp, birthUser.display_name);
    await spCard.getByText(text('key_recoveries.approve_hint'), { exact: true }).waitFor();
    // The card names the admin who requested it.
    await spCard.getByText(/^Asked for by Kai Morgan, /).waitFor();
    await expectNoViolations(sp, 'account recovery page with a request to approve (phone)');
    await approveRecovery(sp, birthUser.display_name);
    const command = `kinlink recovery send-link --request ${id} --private-key FILE`;
    assert.equal(
      (await spCard.locator('.command-line').innerText()).trim(),
      command,
      'command shown after approval',
    );
    await spCard.getByText(text('key_recoveries.command_intro'), { exact: true }).waitFor();
    assert.equal(
      await spCard.getByRole('button', { name: approveName }).count(),
      0,
      'Approve button after approving',
    );
    await expectNoViolations(sp, 'account recovery page with an approved recovery (phone)');
    await expectNoHorizontalScroll(sp, 'account recovery page with a command');

    // The account's owner heard of the request, and the operator's command
    // emails the link.
    await waitForRequestedEmail(env, birthUser.email);
    const output = await sendLink(env, id);
    assert.match(output, new RegExp(`Recovery ${id}`), 'command output names the recovery');
    const link = await recoveryLink(env, birthUser.email);
    assert.ok(link.startsWith(`${env.server.address}/recover#`), `link ${link}`);
    await reloadRecoveriesPage(op);
    await opCard.getByText(text('key_recoveries.state.link_sent'), { exact: true }).waitFor();
    await opCard.getByText(text('key_recoveries.command_again'), { exact: true }).waitFor();

    // The birth parent opens the link in a fresh browser. It needs no
    // authenticator, and the token leaves the address bar at once.
    const recovering = await openLink(env, 'recovering birth parent', link);
    const rp = recovering.page;
    await heading(rp, 'recover.heading').waitFor();
    await rp.getByText(text('recover.intro', { email: birthUser.email }), { exact: true }).waitFor();
    expectTokenHidden(recovering, link);
    assert.equal(await rp.locator('code.enrolment__key').count(), 0, 'authenticator key shown');
    await expectNoViolations(rp, 'recovery link page');

    // Two different passwords are caught before anything is sent.
    const repeat = rp.getByLabel(text('recover.repeat_label'), { exact: true });
    await fillNewPassword(rp, newPassword, `${newPassword}!`);
    await rp.getByRole('button', { name: text('recover.submit'), exact: true }).click();
    await rp.getByText(text('invitation.repeat_mismatch'), { exact: true }).waitFor();
    assert.ok(await isFocused(repeat), 'focus moves to the repeated password');
    await expectNoViolations(rp, 'recovery link page with an error');

    await fillNewPassword(rp, newPassword);
    await rp.getByRole('button', { name: text('recover.submit'), exact: true }).click();
    const done = heading(rp, 'recover.done_title');
    await done.waitFor();
    assert.ok(await isFocused(done), 'focus moves to the done page heading');
    const next = text('recover.done_next', { email: birthUser.email });
    await rp.getByText(next, { exact: true }).waitFor();
    assert.equal(await rp.locator('.recovery-codes').count(), 0, 'recovery codes shown');
    await expectNoViolations(rp, 'recovery done page');
    expectTokenHidden(recovering, link);

    // The old password no longer works, and the new one opens the whole history.
    await rp.getByRole('link', { name: text('recover.sign_in'), exact: true }).click();
    await heading(rp, 'signin.title').waitFor();
    await submitPassword(rp, birthUser);
    await rp.getByText(text('error.auth.invalid_credentials'), { exact: true }).waitFor();
    await signIn(env, recovering, { ...birthUser, password: newPassword });
    await openConversation(rp, 'contact_link');
    await expectSingleMessage(rp, letter, users.adoptive_parent.display_name);
    await expectSingleMessage(rp, reply, text('conversation.you'));

    // The same link, opened again, shows the page of a used link.
    const again = await openLink(env, 'used recovery link', link);
    await heading(again.page, 'recover.used_title').waitFor();
    await again.page.getByText(text('recover.used_body'), { exact: true }).waitFor();
    await again.page.getByRole('link', { name: text('recover.sign_in'), exact: true }).waitFor();
    const passwords = again.page.getByLabel(text('recover.password_label'));
    assert.equal(await passwords.count(), 0, 'password field on the used page');
    await expectNoViolations(again.page, 'used recovery link page');

    // The admins see the recovery completed, with nothing left to do.
    await reloadRecoveriesPage(op);
    await opCard.getByText(text('key_recoveries.state.completed'), { exact: true }).waitFor();
    assert.equal(await opCard.getByRole('button').count(), 0, 'buttons on a completed recovery');

    // The birth parent's browser received the messages, so the recording
    // finds them where they are. Neither admin's browser received them.
    const withMarker = await receivedWith(recovering, marker);
    assert.ok(withMarker.length > 0, 'responses to the birth parent holding the marker');
    for (const admin of [operator, second]) {
      const leaks = await receivedWith(admin, marker);
      assert.deepEqual(leaks, [], `responses to ${admin.label} holding the marker`);
    }
  });

  e2eTest(env, 'worker recovers with a new authenticator', async () => {
    const worker = env.server.users.la_practitioner;
    const newPassword = 'granite willow compass evening';

    const operator = await adminPage('platform_admin');
    await openRecoveriesPage(operator.page);
    await askForRecovery(operator.page, worker.email);
    const requested = text('key_recoveries.requested_notice', {
      name: worker.display_name,
      email: worker.email,
    });
    await operator.page.getByText(requested, { exact: true }).waitFor();
    const id = await recoveryCard(operator.page, worker.display_name).getAttribute(
      'data-recovery-id',
    );
    // The second admin's page may show the list from before the request.
    const second = await adminPage('second_platform_admin', { viewport: PHONE });
    await openRecoveriesPage(second.page);
    await reloadRecoveriesPage(second.page);
    await approveRecovery(second.page, worker.display_name);
    await waitForRequestedEmail(env, worker.email);
    await sendLink(env, id);
    const link = await recoveryLink(env, worker.email);

    // The link's page shows a new authenticator key, which can be replaced.
    const recovering = await openLink(env, 'recovering practitioner', link);
    const rp = recovering.page;
    await heading(rp, 'recover.heading').waitFor();
    expectTokenHidden(recovering, link);
    await rp.getByRole('heading', { level: 2, name: text('recover.key_heading') }).waitFor();
    await rp.getByText(text('recover.second_factor_intro'), { exact: true }).waitFor();
    const key = rp.locator('code.enrolment__key');
    const firstKey = (await key.innerText()).trim();
    assert.match(firstKey, /^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/, 'key shown in groups of four');
    const account = text('invitation.key_account', { issuer: 'KinLink', account: worker.email });
    await rp.getByText(account, { exact: true }).waitFor();
    await expectNoViolations(rp, 'recovery link page with an authenticator key');
    await rp.getByRole('button', { name: text('invitation.key_new'), exact: true }).click();
    await rp.getByText(text('invitation.key_replaced'), { exact: true }).waitFor();
    const shownKey = (await key.innerText()).trim();
    assert.notEqual(shownKey, firstKey, 'key after asking for a new one');
    const secret = shownKey.replace(/\s+/g, '');

    // A wrong code is named at the code field, and the passwords stay.
    const codeField = rp.getByLabel(text('invitation.totp_label'), { exact: true });
    const submit = rp.getByRole('button', { name: text('recover.submit'), exact: true });
    await fillNewPassword(rp, newPassword);
    await codeField.fill(wrongTotp(secret));
    await submit.click();
    await rp.getByText(text('invitation.totp_wrong'), { exact: true }).waitFor();
    assert.equal(await codeField.getAttribute('aria-invalid'), 'true', 'code marked invalid');
    assert.ok(await isFocused(codeField), 'focus moves to the rejected code');
    const password = rp.getByLabel(text('recover.password_label'), { exact: true });
    assert.equal(await password.inputValue(), newPassword, 'password kept');
    await expectNoViolations(rp, 'recovery link page with a wrong code');

    // The right code sets the password and shows ten new recovery codes once.
    await codeField.fill(await freshTotp(secret));
    await submit.click();
    await heading(rp, 'recover.done_title').waitFor();
    const next = text('recover.done_next_second_factor', { email: worker.email });
    await rp.getByText(next, { exact: true }).waitFor();
    await rp.getByText(text('invitation.recovery_store'), { exact: true }).waitFor();
    const codes = await rp
      .getByRole('list', { name: text('invitation.recovery_list'), exact: true })
      .getByRole('listitem')
      .allInnerTexts();
    assert.equal(codes.length, 10, 'recovery codes shown');
    for (const code of codes) assert.match(code.trim(), /^[a-z2-7]{5}-[a-z2-7]{5}$/, 'code');
    await expectNoViolations(rp, 'recovery done page with recovery codes');

    // The practitioner signs in with the new password and the new key.
    await rp.getByRole('link', { name: text('recover.sign_in'), exact: true }).click();
    await heading(rp, 'signin.title').waitFor();
    await signIn(env, recovering, { ...worker, password: newPassword, totp_secret: secret });
  });
});
