// Workers of an organisation. The demo manager invites a practitioner from
// the Workers page, and the test takes the link from the email in the
// server's outbox. The invited practitioner opens it in a fresh browser,
// chooses a password by keyboard, reads the authenticator key from the
// page, gives a wrong code and then the right one, and is shown recovery
// codes once before the page that explains that the account waits for
// approval.
// Their sign-in is refused as pending until the manager approves them;
// then they sign in with a code from a later time step, because the
// server refuses the step used when accepting. Last, the manager disables
// the account, which signs the practitioner out.

import assert from 'node:assert/strict';
import { describe } from 'node:test';

import {
  e2eTest,
  eventually,
  expectNoViolations,
  heading,
  openPage,
  openSignedIn,
  PHONE,
  signIn,
  submitPassword,
  text,
  useServerAndBrowser,
} from './harness.mjs';
import { freshTotp, wrongTotp } from './totp.mjs';

const WORKER = {
  email: 'sam.e2e@northshire.example',
  display_name: 'Sam Okafor',
  password: 'copper meadow lantern river',
};

const ORGANISATION = 'Northshire Council';

/** How long the server may take to write the invitation email into its outbox. */
const EMAIL_TIMEOUT_MS = 30_000;

function region(page, key) {
  return page.getByRole('region', { name: text(key), exact: true });
}

function workersRegion(page) {
  return region(page, 'workers.list_heading');
}

function inviteRegion(page) {
  return region(page, 'workers.invite_heading');
}

function workerCard(page, name) {
  return workersRegion(page)
    .getByRole('listitem')
    .filter({ has: page.getByRole('heading', { name, exact: true }) });
}

function invitationCard(page, name) {
  return region(page, 'workers.invitations_heading')
    .getByRole('listitem')
    .filter({ has: page.getByRole('heading', { name, exact: true }) });
}

/** Returns the accessible name of a button whose visible text is followed by hidden context. */
function nameWithContext(labelKey, contextKey, name) {
  return `${text(labelKey)} ${text(contextKey, { name })}`;
}

async function isFocused(locator) {
  return locator.evaluate((element) => element === document.activeElement);
}

async function expectNoHorizontalScroll(page, pageName) {
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  assert.ok(overflow <= 0, `${pageName} scrolls sideways by ${overflow} px`);
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

/** Opens the Workers page from the navigation and waits for the list. */
async function openWorkersPage(page) {
  await page
    .getByRole('banner')
    .getByRole('link', { name: text('nav.workers'), exact: true })
    .click();
  await heading(page, 'workers.title').waitFor();
  await workersRegion(page).getByRole('listitem').first().waitFor();
}

/** Fills the invitation form with `person` as a worker of `role` and submits it. */
async function invite(page, person, role) {
  const form = inviteRegion(page);
  await form.getByLabel(text('workers.email_label'), { exact: true }).fill(person.email);
  await form.getByLabel(text('workers.name_label'), { exact: true }).fill(person.display_name);
  await form.getByLabel(text(`workers.role_choice.${role}`), { exact: true }).check();
  await form.getByRole('button', { name: text('workers.submit'), exact: true }).click();
}

describe('workers of an organisation', () => {
  const env = useServerAndBrowser();

  e2eTest(env, 'invited practitioner enrols and is approved', async () => {
    const managerUser = env.server.users.la_manager;
    const manager = await openSignedIn(env, 'la_manager');
    const { page } = manager;
    await openWorkersPage(page);

    // I am listed, marked as me, with no button to disable myself.
    const me = workerCard(page, text('workers.name_you', { name: managerUser.display_name }));
    await me.getByText(text('workers.role.manager'), { exact: true }).waitFor();
    await me.getByText(text('workers.status.active'), { exact: true }).waitFor();
    assert.equal(await me.getByRole('button').count(), 0, 'buttons on my own entry');
    await expectNoViolations(page, 'workers page');

    // An address the server rejects gets its error next to the email
    // field, and what was typed stays.
    const form = inviteRegion(page);
    const emailField = form.getByLabel(text('workers.email_label'), { exact: true });
    const nameField = form.getByLabel(text('workers.name_label'), { exact: true });
    const practitionerRole = form.getByLabel(text('workers.role_choice.practitioner'), {
      exact: true,
    });
    await invite(page, { ...WORKER, email: 'sam.e2e@northshire' }, 'practitioner');
    await form.getByText(text('error.request.invalid_field.email'), { exact: true }).waitFor();
    assert.equal(await emailField.getAttribute('aria-invalid'), 'true', 'email marked invalid');
    assert.ok(await isFocused(emailField), 'focus moves to the rejected email field');
    assert.equal(await emailField.inputValue(), 'sam.e2e@northshire', 'typed email kept');
    assert.equal(await nameField.inputValue(), WORKER.display_name, 'typed name kept');
    assert.ok(await practitionerRole.isChecked(), 'chosen role kept');
    await expectNoViolations(page, 'worker invitation form with an error');

    await emailField.fill(WORKER.email);
    await form.getByRole('button', { name: text('workers.submit'), exact: true }).click();
    await form.getByText(text('workers.sent', { email: WORKER.email }), { exact: true }).waitFor();
    assert.equal(await emailField.getAttribute('aria-invalid'), null, 'error cleared');
    assert.equal(await nameField.inputValue(), '', 'form emptied after sending');
    const sent = invitationCard(page, WORKER.display_name);
    await sent.getByText(text('workers.invitation_status.waiting'), { exact: true }).waitFor();
    await sent.getByText(text('workers.role.practitioner'), { exact: true }).waitFor();

    // The invited practitioner opens the emailed link in a browser of their own.
    const link = await invitationLink(env, WORKER.email);
    const worker = await openPage(env, 'invited practitioner');
    const wp = worker.page;
    await worker.context.grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: env.server.address,
    });
    let keyRequests = 0;
    wp.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/v1/invitations/enrol') keyRequests += 1;
    });
    await wp.goto(link);
    await heading(wp, 'invitation.greeting', { name: WORKER.display_name }).waitFor();
    const intro = text('invitation.worker_intro.practitioner', { organisation: ORGANISATION });
    await wp.getByText(intro, { exact: true }).waitFor();
    assert.equal(new URL(wp.url()).hash, '', 'token left in the address bar');
    const codeField = wp.getByLabel(text('invitation.totp_label'), { exact: true });
    assert.equal(await codeField.isVisible(), false, 'code field before the password is set');
    await expectNoViolations(wp, 'worker invitation, password step');

    // The password is set by keyboard alone: Tab from the first field, Enter to continue.
    const password = wp.getByLabel(text('invitation.password_label'), { exact: true });
    const repeat = wp.getByLabel(text('invitation.repeat_label'), { exact: true });
    await password.focus();
    await wp.keyboard.type(WORKER.password);
    await wp.keyboard.press('Tab');
    assert.ok(await isFocused(repeat), 'Tab moves from the password to the repeated password');
    await wp.keyboard.type(WORKER.password);
    await wp.keyboard.press('Enter');

    const keyHeading = wp.getByRole('heading', {
      level: 2,
      name: text('invitation.key_heading'),
      exact: true,
    });
    await keyHeading.waitFor();
    assert.ok(await isFocused(keyHeading), 'focus moves to the authenticator step');
    const key = wp.locator('code.enrolment__key');
    await key.waitFor();
    const shownKey = (await key.innerText()).trim();
    assert.match(shownKey, /^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/, 'key shown in groups of four');
    const secret = shownKey.replace(/\s+/g, '');
    await wp
      .getByText(text('invitation.key_account', { issuer: 'KinLink', account: WORKER.email }), {
        exact: true,
      })
      .waitFor();
    assert.equal(await codeField.getAttribute('inputmode'), 'numeric', 'code field keyboard');
    assert.equal(
      await codeField.getAttribute('autocomplete'),
      'one-time-code',
      'code field autocomplete',
    );
    await expectNoViolations(wp, 'worker invitation, authenticator step');

    // The copy button puts the key, without its spaces, on the clipboard.
    await wp.getByRole('button', { name: text('invitation.key_copy'), exact: true }).click();
    await wp.getByText(text('invitation.key_copied'), { exact: true }).waitFor();
    const copied = await wp.evaluate(() => navigator.clipboard.readText());
    assert.equal(copied, secret, 'copied key');

    // A wrong code is named at the code field, and the passwords stay.
    const accept = wp.getByRole('button', { name: text('invitation.submit'), exact: true });
    await codeField.fill(wrongTotp(secret));
    await accept.click();
    await wp.getByText(text('invitation.totp_wrong'), { exact: true }).waitFor();
    assert.equal(await codeField.getAttribute('aria-invalid'), 'true', 'code marked invalid');
    assert.ok(await isFocused(codeField), 'focus moves to the rejected code');
    assert.equal(await password.inputValue(), WORKER.password, 'password kept');
    assert.equal(await repeat.inputValue(), WORKER.password, 'repeated password kept');
    await expectNoViolations(wp, 'worker invitation with a wrong code');

    await codeField.fill(await freshTotp(secret));
    await accept.click();
    await heading(wp, 'invitation.recovery_title').waitFor();
    assert.ok(await isFocused(heading(wp, 'invitation.recovery_title')), 'focus on the codes');
    await wp.getByText(text('invitation.recovery_store'), { exact: true }).waitFor();
    const codes = await wp
      .getByRole('list', { name: text('invitation.recovery_list'), exact: true })
      .getByRole('listitem')
      .allInnerTexts();
    assert.equal(codes.length, 10, 'recovery codes shown');
    for (const code of codes) assert.match(code.trim(), /^[a-z2-7]{5}-[a-z2-7]{5}$/, 'code');
    await expectNoViolations(wp, 'recovery codes');
    assert.equal(keyRequests, 1, 'keys requested while setting up');

    await wp.getByRole('button', { name: text('invitation.recovery_done'), exact: true }).click();
    const pendingHeading = heading(wp, 'invitation.worker_pending_title');
    await pendingHeading.waitFor();
    assert.ok(await isFocused(pendingHeading), 'focus moves to the pending page heading');
    const next = text('invitation.worker_pending_next', { organisation: ORGANISATION });
    await wp.getByText(next, { exact: true }).waitFor();
    await expectNoViolations(wp, 'worker pending page');

    // Until a manager approves, sign-in shows that the account is pending.
    await wp.getByRole('link', { name: text('invitation.sign_in_link') }).click();
    await heading(wp, 'signin.title').waitFor();
    await submitPassword(wp, WORKER);
    await wp.getByText(text('error.auth.account_pending'), { exact: true }).waitFor();

    // The manager's list shows the new practitioner as pending, and the
    // manager approves them.
    const card = workerCard(page, WORKER.display_name);
    await eventually(async () => {
      await page.reload();
      const pending = text('workers.status.pending');
      await card.getByText(pending, { exact: true }).waitFor({ timeout: 2_000 });
    });
    await card.getByText(text('workers.role.practitioner'), { exact: true }).waitFor();
    await sent.getByText(text('workers.invitation_status.accepted'), { exact: true }).waitFor();
    await sent.getByText(text('workers.accepted_hint'), { exact: true }).waitFor();
    await expectNoViolations(page, 'workers page with a worker waiting for approval');
    const approve = nameWithContext(
      'workers.approve',
      'workers.approve_context',
      WORKER.display_name,
    );
    await card.getByRole('button', { name: approve, exact: true }).click();
    const list = workersRegion(page);
    const approved = text('workers.approved', { name: WORKER.display_name });
    await list.getByText(approved, { exact: true }).waitFor();
    await card.getByText(text('workers.status.active'), { exact: true }).waitFor();
    assert.ok(
      await isFocused(page.getByRole('heading', { name: text('workers.list_heading') })),
      'focus moves to the list heading after approving',
    );

    // The practitioner signs in with a code from a later time step and finds
    // the conversations page, without the managers' Workers page.
    await signIn(env, worker, { ...WORKER, totp_secret: secret });
    const navWorkers = wp.getByRole('banner').getByRole('link', { name: text('nav.workers') });
    assert.equal(await navWorkers.count(), 0, 'Workers link shown to a practitioner');

    // Disabling needs a confirmation, and cancelling leaves the account as it was.
    const disable = nameWithContext(
      'workers.disable',
      'workers.disable_context',
      WORKER.display_name,
    );
    const disableButton = card.getByRole('button', { name: disable, exact: true });
    await disableButton.click();
    const confirmTitle = text('workers.disable_confirm_title', { name: WORKER.display_name });
    const confirmHeading = card.getByRole('heading', { name: confirmTitle, exact: true });
    await confirmHeading.waitFor();
    assert.ok(await isFocused(confirmHeading), 'focus moves to the question');
    await expectNoViolations(page, 'workers page asking before disabling');
    await card.getByRole('button', { name: text('workers.disable_cancel'), exact: true }).click();
    assert.ok(await isFocused(disableButton), 'focus returns to the Disable button');
    await card.getByText(text('workers.status.active'), { exact: true }).waitFor();

    await disableButton.click();
    await card.getByRole('button', { name: text('workers.disable_confirm'), exact: true }).click();
    const disabled = text('workers.disabled', { name: WORKER.display_name });
    await list.getByText(disabled, { exact: true }).waitFor();
    await card.getByText(text('workers.status.disabled'), { exact: true }).waitFor();
    assert.equal(await card.getByRole('button').count(), 0, 'buttons on a disabled worker');

    // The practitioner's session ends at once, and sign-in is refused.
    await heading(wp, 'signin.title').waitFor();
    await wp.getByText(text('signin.session_ended'), { exact: true }).waitFor();
    await submitPassword(wp, WORKER);
    await wp.getByText(text('error.auth.account_disabled'), { exact: true }).waitFor();
  });

  e2eTest(env, 'workers page at phone width', async () => {
    const { page } = await openSignedIn(env, 'la_manager', { viewport: PHONE });
    await openWorkersPage(page);
    await expectNoViolations(page, 'workers page (phone)');
    await expectNoHorizontalScroll(page, 'workers page');

    // Empty fields are each named, and focus goes to the first.
    const form = inviteRegion(page);
    await form.getByRole('button', { name: text('workers.submit'), exact: true }).click();
    for (const key of ['workers.email_missing', 'workers.name_missing', 'workers.role_missing']) {
      await form.getByText(text(key), { exact: true }).waitFor();
    }
    const emailField = form.getByLabel(text('workers.email_label'), { exact: true });
    assert.ok(await isFocused(emailField), 'focus moves to the first empty field');
    await expectNoViolations(page, 'worker invitation form with errors (phone)');
    await expectNoHorizontalScroll(page, 'worker invitation form with errors');

    const colleague = { email: 'jo.e2e@northshire.example', display_name: 'Jo Mensah' };
    await invite(page, colleague, 'manager');
    await form
      .getByText(text('workers.sent', { email: colleague.email }), { exact: true })
      .waitFor();
    const card = invitationCard(page, colleague.display_name);
    await card.getByText(text('workers.role.manager'), { exact: true }).waitFor();
    await card.getByText(text('workers.invitation_status.waiting'), { exact: true }).waitFor();
    await expectNoHorizontalScroll(page, 'workers page with invitations');

    // A second invitation to the same address is refused while the first waits.
    await invite(page, colleague, 'practitioner');
    await form.getByText(text('workers.conflict'), { exact: true }).waitFor();
  });
});
