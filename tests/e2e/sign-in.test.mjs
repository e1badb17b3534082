// Signing in and out: wrong passwords, the second factor for workers,
// recovery codes, sign-out, and revoking a session from "My sessions".

import assert from 'node:assert/strict';
import { describe } from 'node:test';

import {
  e2eTest,
  eventually,
  heading,
  openPage,
  openSignedIn,
  signIn,
  submitPassword,
  text,
  useServerAndBrowser,
} from './harness.mjs';
import { freshTotp, wrongTotp } from './totp.mjs';

async function alertText(page) {
  return (await page.getByRole('alert').first().innerText()).trim();
}

describe('sign-in and sessions', () => {
  const env = useServerAndBrowser();

  e2eTest(env, 'wrong password is rejected', async () => {
    const record = await openPage(env, 'wrong password');
    const { page } = record;
    await page.goto(`${env.server.address}/#/sign-in`);
    await submitPassword(page, env.server.users.adoptive_parent, { password: 'not the password' });

    await eventually(async () => {
      assert.equal(await alertText(page), text('error.auth.invalid_credentials'));
    });
    await heading(page, 'signin.title').waitFor();
    const passwordInput = page.locator('#signin-password');
    assert.equal(await passwordInput.inputValue(), '', 'the rejected password is cleared');
    assert.equal(
      await page.evaluate(() => document.activeElement?.id),
      'signin-password',
      'the password field has the focus for the next try',
    );
    await record.context.close();
  });

  e2eTest(env, 'empty fields are named before sending', async () => {
    const record = await openPage(env, 'empty fields');
    const { page } = record;
    await page.goto(`${env.server.address}/#/sign-in`);
    await page.getByRole('button', { name: text('signin.submit'), exact: true }).click();

    await page.getByText(text('signin.email_missing'), { exact: true }).waitFor();
    await page.getByText(text('signin.password_missing'), { exact: true }).waitFor();
    const email = page.getByLabel(text('signin.email'), { exact: true });
    assert.equal(await email.getAttribute('aria-invalid'), 'true', 'email marked invalid');
    await record.context.close();
  });

  e2eTest(env, 'practitioner needs a valid second factor', async () => {
    const user = env.server.users.la_practitioner;
    assert.ok(user.totp_secret, 'la_practitioner has a TOTP secret');
    const record = await openPage(env, 'second factor');
    const { page } = record;
    await page.goto(`${env.server.address}/#/sign-in`);
    await submitPassword(page, user);
    await heading(page, 'second_factor.title').waitFor();

    const code = page.getByLabel(text('second_factor.totp_label'), { exact: true });
    const submit = page.getByRole('button', { name: text('second_factor.submit'), exact: true });
    await code.fill(wrongTotp(user.totp_secret));
    await submit.click();
    await page.getByText(text('error.auth.second_factor_invalid'), { exact: true }).waitFor();
    await heading(page, 'second_factor.title').waitFor();

    await code.fill(await freshTotp(user.totp_secret));
    await submit.click();
    await heading(page, 'conversations.title').waitFor();
    const header = await page.getByRole('banner').innerText();
    assert.match(header, new RegExp(user.display_name), 'signed-in name in the header');

    // Sign-out ends the session, so the conversations page is out of reach.
    await page.getByRole('banner').getByRole('button', { name: text('nav.sign_out') }).click();
    await heading(page, 'signin.title').waitFor();
    await page.getByText(text('signin.signed_out'), { exact: true }).waitFor();
    await page.goto(`${env.server.address}/#/conversations`);
    await page.reload();
    await heading(page, 'signin.title').waitFor();
    await record.context.close();
  });

  e2eTest(env, 'recovery code replaces the app code', async () => {
    const user = env.server.users.va_practitioner;
    assert.ok(user.recovery_codes?.length > 0, 'va_practitioner has recovery codes');
    const record = await openPage(env, 'recovery code');
    const { page } = record;
    await page.goto(`${env.server.address}/#/sign-in`);
    await submitPassword(page, user);
    await heading(page, 'second_factor.title').waitFor();

    await page.getByRole('button', { name: text('second_factor.use_recovery') }).click();
    const field = page.getByLabel(text('second_factor.recovery_label'), { exact: true });
    await field.fill(user.recovery_codes[0]);
    await page.getByRole('button', { name: text('second_factor.submit'), exact: true }).click();
    await heading(page, 'conversations.title').waitFor();
    await record.context.close();
  });

  e2eTest(env, 'revoking a session signs that browser out', async () => {
    const user = env.server.users.adoptive_parent;
    const first = await openSignedIn(env, 'adoptive_parent');
    const second = await openPage(env, 'adoptive_parent, second browser');
    await signIn(env, second, user);

    await first.page.getByRole('link', { name: text('nav.sessions') }).click();
    await heading(first.page, 'sessions.title').waitFor();
    const cards = first.page.locator('.session-card');
    await eventually(async () => assert.equal(await cards.count(), 2, 'sessions listed'));

    const current = first.page.locator('.session-card[data-current="true"]');
    assert.equal(await current.count(), 1, 'sessions marked current');
    await current.getByText(text('sessions.current'), { exact: true }).waitFor();
    const revokeName = new RegExp(`^${text('sessions.revoke')}\\b`);
    assert.equal(
      await current.getByRole('button', { name: revokeName }).count(),
      0,
      'revoke button on the current session',
    );
    await current.getByRole('button', { name: text('nav.sign_out'), exact: true }).waitFor();

    const other = first.page.locator('.session-card[data-current="false"]');
    const browser = (await other.getByRole('heading').innerText()).trim();
    await other.getByRole('button', { name: revokeName }).click();
    await eventually(async () => assert.equal(await cards.count(), 1, 'sessions after revoking'));
    await first.page.getByText(text('sessions.revoked', { browser }), { exact: true }).waitFor();

    // The revoked browser's live connection is closed, and it lands on sign-in
    // without the user doing anything.
    await heading(second.page, 'signin.title').waitFor();
    await second.page.getByText(text('signin.session_ended'), { exact: true }).waitFor();

    // The browser that revoked it is still signed in.
    await first.page.getByRole('link', { name: text('nav.conversations') }).click();
    await heading(first.page, 'conversations.title').waitFor();
  });
});
