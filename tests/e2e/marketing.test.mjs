// News email by choice. The birth parent turns news on in the
// notification settings, and the choice is kept. The server binary's
// `queue-news` command then queues the news email, and the test takes the
// unsubscribe link from the end of its body. Opened in a browser with no
// session, the link turns news off at once, and the settings show it off.
// A made-up link and a link without a token get a page that explains. An
// expired link is covered by the Rust suite, because it needs the clock
// moved on 90 days.

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
  text,
  useServerAndBrowser,
} from './harness.mjs';

/** How long the server may take to write the news email into its outbox. */
const EMAIL_TIMEOUT_MS = 30_000;

function newsCheckbox(page) {
  return page.getByLabel(text('notifications.marketing_label'), { exact: true });
}

async function openSettings(page) {
  await page
    .getByRole('banner')
    .getByRole('link', { name: text('nav.notifications'), exact: true })
    .click();
  await heading(page, 'notifications.title').waitFor();
  await newsCheckbox(page).waitFor();
}

/** Waits for a news email to `address` and returns the unsubscribe link at the end of its body. */
async function unsubscribeLink(env, address) {
  return eventually(async () => {
    const email = await env.server.newestEmailTo(address);
    assert.ok(email, `no email to ${address} in the outbox yet`);
    // The token must end at a line break, so a file still being written never matches.
    const match = email.body.match(/(\S+\/unsubscribe#[A-Za-z0-9_-]+)\r?\n/);
    assert.ok(match, `no unsubscribe link in the email:\n${email.body}`);
    const header = email.headers['list-unsubscribe'] ?? '';
    assert.ok(header.includes('/api/v1/unsubscribe/'), `List-Unsubscribe header "${header}"`);
    return match[1];
  }, EMAIL_TIMEOUT_MS);
}

/** Asserts that the unsubscribe page shows the page of `kind` (expired or unknown). */
async function expectUnusablePage(page, kind) {
  await heading(page, `unsubscribe.${kind}_title`).waitFor();
  await page.getByText(text(`unsubscribe.${kind}_body`), { exact: true }).waitFor();
}

describe('news email', () => {
  const env = useServerAndBrowser();

  e2eTest(env, 'news chosen, then stopped by its link', async () => {
    const { users } = env.server;
    const member = await openSignedIn(env, 'birth_parent');
    const { page } = member;
    await openSettings(page);
    const news = newsCheckbox(page);
    assert.equal(await news.isChecked(), false, 'news is off for a new account');

    await news.check();
    await page.getByRole('button', { name: text('notifications.save'), exact: true }).click();
    await page.getByText(text('notifications.saved'), { exact: true }).waitFor();
    await page.reload();
    await heading(page, 'notifications.title').waitFor();
    await eventually(async () => assert.equal(await news.isChecked(), true, 'news kept on'));
    await expectNoViolations(page, 'notification settings with news');

    // The operator queues the news; the running server sends it.
    const output = await env.server.runCommand(['queue-news']);
    assert.match(output, /Queued the news email for \d+ users/, 'queue-news output');
    const link = await unsubscribeLink(env, users.birth_parent.email);
    assert.ok(link.startsWith(`${env.server.address}/unsubscribe#`), `link ${link}`);

    // The link works without a session, and the token leaves the address bar at once.
    const reader = await openPage(env, 'news reader');
    await reader.page.goto(link);
    await heading(reader.page, 'unsubscribe.done_title').waitFor();
    const shownUrl = new URL(reader.page.url());
    assert.equal(shownUrl.pathname, '/unsubscribe', 'path after opening the link');
    assert.equal(shownUrl.hash, '', 'token left in the address bar');
    await reader.page.getByRole('link', { name: text('unsubscribe.sign_in_link') }).waitFor();
    await expectNoViolations(reader.page, 'unsubscribed page');

    await page.reload();
    await heading(page, 'notifications.title').waitFor();
    await eventually(async () => assert.equal(await news.isChecked(), false, 'news now off'));

    // A link used before changes nothing and says the same.
    await reader.page.goto(link);
    await heading(reader.page, 'unsubscribe.done_title').waitFor();

    // Signed in, the page links to the settings instead of sign-in.
    await page.goto(link);
    await heading(page, 'unsubscribe.done_title').waitFor();
    await page.getByRole('link', { name: text('unsubscribe.settings_link') }).click();
    await heading(page, 'notifications.title').waitFor();
    assert.equal(new URL(page.url()).pathname, '/', 'settings open on the root path');
  });

  e2eTest(env, 'unknown unsubscribe link page', async () => {
    const { page } = await openPage(env, 'made-up link', { viewport: PHONE });
    await page.goto(`${env.server.address}/unsubscribe#NotARealUnsubscribeToken00000000000000000`);
    await expectUnusablePage(page, 'unknown');
    assert.equal(new URL(page.url()).hash, '', 'token left in the address bar');
    await page.getByRole('link', { name: text('unsubscribe.sign_in_link') }).waitFor();
    await expectNoViolations(page, 'unknown unsubscribe page (phone)');
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    assert.ok(overflow <= 0, `unknown unsubscribe page scrolls sideways by ${overflow} px`);

    // A link cut off before its `#` has no token at all.
    await page.goto(`${env.server.address}/unsubscribe`);
    await expectUnusablePage(page, 'unknown');
  });
});
