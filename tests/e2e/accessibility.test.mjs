// WCAG 2.2 AA checks with axe on every page, at desktop width and at
// 360 × 740 (a small phone), plus sign-in and sending a message by keyboard
// alone.

import assert from 'node:assert/strict';
import path from 'node:path';
import { describe } from 'node:test';

import {
  cspViolations,
  DESKTOP,
  e2eTest,
  eventually,
  expectNoViolations,
  heading,
  openConversation,
  openPage,
  PHONE,
  sendMessage,
  signIn,
  submitPassword,
  text,
  uniqueBody,
  useServerAndBrowser,
  waitForStatus,
} from './harness.mjs';
import { freshTotp } from './totp.mjs';

async function expectNoHorizontalScroll(page, pageName) {
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  assert.ok(overflow <= 0, `${pageName} scrolls sideways by ${overflow} px`);
}

/** Presses Tab until `locator` has focus, and fails after `maxPresses` presses. */
async function tabTo(page, locator, maxPresses, description) {
  for (let presses = 0; presses < maxPresses; presses += 1) {
    await page.keyboard.press('Tab');
    if (await locator.evaluate((element) => element === document.activeElement)) return;
  }
  assert.fail(`${description} not reached within ${maxPresses} presses of Tab`);
}

async function expectVisibleFocus(page, description) {
  const outline = await page.evaluate(() => {
    const style = getComputedStyle(document.activeElement);
    return { style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
  });
  assert.notEqual(outline.style, 'none', `focus outline of ${description}`);
  assert.ok(outline.width >= 2, `focus outline width of ${description}: ${outline.width}px`);
}

/** How long an email may take to reach the outbox. */
const EMAIL_TIMEOUT_MS = 30_000;

/**
 * Waits for the email that notifies the owner of `address` of the
 * recovery request, runs the operator's command for recovery `id` and
 * returns the link it emails.
 */
async function sendRecoveryLink(env, id, address) {
  await eventually(async () => {
    const email = await env.server.newestEmailTo(address);
    const subject = 'A recovery of your KinLink account was asked for';
    assert.equal(email?.headers.subject, subject, `newest email to ${address}`);
  }, EMAIL_TIMEOUT_MS);
  const keyFile = path.join(env.server.dataDir, 'recovery-private-key.development');
  await env.server.runCommand(['recovery', 'send-link', '--request', id, '--private-key', keyFile]);
  return eventually(async () => {
    const email = await env.server.newestEmailTo(address);
    const match = email?.body.match(/(\S+\/recover#[A-Za-z0-9_-]+)\r?\n/);
    assert.ok(match, `no recovery link in the newest email to ${address}`);
    return match[1];
  }, EMAIL_TIMEOUT_MS);
}

/** Opens the Account recovery page with its list read afresh. */
async function openRecoveriesPage(env, page) {
  await page.goto(`${env.server.address}/#/admin/key-recoveries`);
  await page.reload();
  await heading(page, 'key_recoveries.title').waitFor();
  await page
    .getByRole('region', { name: text('key_recoveries.list_heading'), exact: true })
    .getByRole('listitem')
    .first()
    .waitFor();
}

describe('accessibility', () => {
  const env = useServerAndBrowser();
  /**
   * The platform admins' pages, signed in once for the file, by demo key,
   * because each sign-in needs a code from a new 30-second step.
   */
  const admins = {};

  async function adminPage(key) {
    if (!admins[key]) {
      const record = await openPage(env, key);
      await signIn(env, record, env.server.users[key], { hasConversations: false });
      admins[key] = record;
    }
    return admins[key];
  }

  for (const [size, viewport, userKey, recoveredKey] of [
    ['desktop', DESKTOP, 'la_practitioner', 'second_adoptive_parent'],
    ['phone', PHONE, 'va_practitioner', 'va_manager'],
  ]) {
    e2eTest(env, `every page passes axe at ${size} width`, async () => {
      const user = env.server.users[userKey];
      const record = await openPage(env, `${userKey} (${size})`, { viewport });
      const { page } = record;
      const check = async (pageName) => {
        await expectNoViolations(page, `${pageName} (${size})`);
        if (viewport === PHONE) await expectNoHorizontalScroll(page, pageName);
      };

      await page.goto(`${env.server.address}/#/sign-in`);
      await heading(page, 'signin.title').waitFor();
      await check('sign-in');

      await submitPassword(page, user, { password: 'not the password' });
      await page.getByText(text('error.auth.invalid_credentials'), { exact: true }).waitFor();
      await check('sign-in with an error');

      await submitPassword(page, user);
      await heading(page, 'second_factor.title').waitFor();
      await check('second factor');

      const code = await freshTotp(user.totp_secret);
      await page.getByLabel(text('second_factor.totp_label'), { exact: true }).fill(code);
      await page.getByRole('button', { name: text('second_factor.submit'), exact: true }).click();
      await heading(page, 'conversations.title').waitFor();
      await check('my conversations');

      await openConversation(page, 'discussion');
      const body = uniqueBody('Checking the page with axe');
      await sendMessage(page, body);
      await waitForStatus(page, body, 'conversation.status.sent');
      await check('a conversation');

      await page.getByRole('link', { name: text('nav.sessions') }).click();
      await heading(page, 'sessions.title').waitFor();
      await page.locator('.session-card').first().waitFor();
      await check('my sessions');

      await page
        .locator('#user-area')
        .getByRole('link', { name: text('nav.rights'), exact: true })
        .click();
      await heading(page, 'rights.title').waitFor();
      await page.locator('.rights-list > li').first().waitFor();
      await check('your data rights');

      await page.getByRole('link', { name: text('nav.rights_requests'), exact: true }).click();
      await heading(page, 'rights_requests.title').waitFor();
      await page.locator('.rights-list > li').first().waitFor();
      await check('rights requests of a practitioner');

      assert.deepEqual(cspViolations(record), [], 'Content-Security-Policy violations');
    });

    e2eTest(env, `community pages pass axe at ${size} width`, async () => {
      const check = async (page, pageName) => {
        await expectNoViolations(page, `${pageName} (${size})`);
        if (viewport === PHONE) await expectNoHorizontalScroll(page, pageName);
      };
      const sectionLink = (page, key) =>
        page
          .getByRole('navigation', { name: text('community.nav.label') })
          .getByRole('link', { name: text(key), exact: true });

      // Signed out: the join page, and the form of an application link.
      const visitor = await openPage(env, `community visitor (${size})`, { viewport });
      await visitor.page.goto(`${env.server.address}/#/community/join`);
      await heading(visitor.page, 'community.join.title').waitFor();
      await check(visitor.page, 'join the community');
      await visitor.page.goto(`${env.server.address}/community/apply#NotARealApplicationToken000`);
      await heading(visitor.page, 'community.apply.title').waitFor();
      await visitor.page
        .getByLabel(text('community.apply.display_name_label'), { exact: true })
        .waitFor();
      await check(visitor.page, 'application form');

      // A member: the groups, a group, a topic, a search, the profile, the
      // notices and a member page.
      const member = await openPage(env, `community member (${size})`, { viewport });
      const { page } = member;
      await signIn(env, member, env.server.users.community_member, { landing: 'community' });
      await page.getByRole('link', { name: 'New adopters', exact: true }).waitFor();
      await check(page, 'community');
      await page.getByRole('link', { name: 'New adopters', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'New adopters', exact: true }).waitFor();
      const title = page.getByLabel(text('community.topic.title_label'), { exact: true });
      await title.waitFor();
      await check(page, 'community group');
      const topicTitle = uniqueBody('Checking the topic page with axe');
      await title.fill(topicTitle);
      await page
        .getByLabel(text('community.topic.body_label'), { exact: true })
        .fill('A first post, to have a topic to check.');
      await page.getByRole('button', { name: text('community.topic.start'), exact: true }).click();
      await page.getByRole('heading', { level: 1, name: topicTitle, exact: true }).waitFor();
      await page.locator('.community-post').first().waitFor();
      await check(page, 'community topic');
      const topicUrl = page.url();
      await sectionLink(page, 'community.nav.groups').click();
      await heading(page, 'community.title').waitFor();
      // The words of the topic's first post, to have a result to check.
      const words = page.getByLabel(text('community.search.label'), { exact: true });
      await words.fill('first post check');
      await page
        .getByRole('button', { name: text('community.search.submit'), exact: true })
        .click();
      await heading(page, 'community.search.title').waitFor();
      await page.locator('.community-hit').first().waitFor();
      await check(page, 'community search');
      await sectionLink(page, 'community.nav.profile').click();
      await heading(page, 'community.profile.title').waitFor();
      const save = page.getByRole('button', { name: text('community.profile.save'), exact: true });
      await save.waitFor();
      await check(page, 'community profile');
      await page.getByRole('link', { name: text('community.profile.preview_link') }).click();
      await page.getByText(text('community.member.preview'), { exact: true }).waitFor();
      await check(page, 'community member page');
      await sectionLink(page, 'community.nav.notices').click();
      await heading(page, 'community.notices.title').waitFor();
      await page.locator('.case-list > li').first().waitFor();
      await check(page, 'community notices');

      // A moderator: the community page with the new group form, a topic with
      // the form that passes a post to an organisation, applications,
      // reports, appeals, requests to join and the membership list.
      const moderator = await openPage(env, `community moderator (${size})`, { viewport });
      await signIn(env, moderator, env.server.users.community_moderator, { landing: 'community' });
      await moderator.page.locator('.community-group').first().waitFor();
      await moderator.page
        .getByRole('form', { name: text('community.new_group.heading') })
        .waitFor();
      await check(moderator.page, 'community for a moderator');
      await moderator.page.goto(topicUrl);
      await moderator.page
        .getByRole('heading', { level: 1, name: topicTitle, exact: true })
        .waitFor();
      await moderator.page
        .getByRole('button', { name: new RegExp(`^${text('community.concern.open')}`) })
        .first()
        .click();
      await moderator.page
        .getByLabel(text('community.concern.tell_label'), { exact: true })
        .uncheck();
      await moderator.page
        .getByLabel(text('community.concern.not_told_label'), { exact: true })
        .waitFor();
      await check(moderator.page, 'community topic with the concern form');
      for (const [navKey, titleKey, loaded] of [
        ['community.nav.applications', 'community.applications.title', '.worker-list > li'],
        ['community.nav.reports', 'community.reports.title', '.worker-list > li'],
        ['community.nav.appeals', 'community.appeals.title', '.worker-list > li'],
        ['community.nav.requests', 'community.requests.title', '.community__section'],
        ['community.nav.membership_list', 'community.list.title', 'form'],
      ]) {
        await sectionLink(moderator.page, navKey).click();
        await heading(moderator.page, titleKey).waitFor();
        await moderator.page.locator(loaded).first().waitFor();
        await check(moderator.page, text(titleKey));
      }

      for (const record of [visitor, member, moderator]) {
        assert.deepEqual(cspViolations(record), [], 'Content-Security-Policy violations');
      }
    });

    // The account recovered at desktop width has no second factor, and the
    // one at phone width has one, so each form of the link's page is checked.
    e2eTest(env, `account recovery pages pass axe at ${size} width`, async () => {
      const check = async (page, pageName) => {
        await expectNoViolations(page, `${pageName} (${size})`);
        if (viewport === PHONE) await expectNoHorizontalScroll(page, pageName);
      };
      const account = env.server.users[recoveredKey];

      const visitor = await openPage(env, `recovery link visitor (${size})`, { viewport });
      await visitor.page.goto(`${env.server.address}/recover#NotARealRecoveryToken000`);
      await heading(visitor.page, 'recover.unknown_title').waitFor();
      await check(visitor.page, 'unknown recovery link');

      const operator = await adminPage('platform_admin');
      const op = operator.page;
      await op.setViewportSize(viewport);
      await openRecoveriesPage(env, op);
      await check(op, 'account recovery');
      const form = op.getByRole('region', {
        name: text('key_recoveries.request_heading'),
        exact: true,
      });
      await form
        .getByRole('button', { name: text('key_recoveries.request_submit'), exact: true })
        .click();
      await form.getByText(text('key_recoveries.email_missing'), { exact: true }).waitFor();
      await check(op, 'account recovery request with errors');
      await form
        .getByLabel(text('key_recoveries.email_label'), { exact: true })
        .fill(account.email);
      await form
        .getByLabel(text('key_recoveries.reason_label'), { exact: true })
        .fill('Identity checked by phone with their organisation');
      await form
        .getByRole('button', { name: text('key_recoveries.request_submit'), exact: true })
        .click();
      const requested = text('key_recoveries.requested_notice', {
        name: account.display_name,
        email: account.email,
      });
      await op.getByText(requested, { exact: true }).waitFor();
      await check(op, 'account recovery with a request');

      const second = await adminPage('second_platform_admin');
      const sp = second.page;
      await sp.setViewportSize(viewport);
      await openRecoveriesPage(env, sp);
      const card = sp
        .locator('.key-recovery')
        .filter({ has: sp.getByRole('heading', { name: account.display_name, exact: true }) });
      const context = text('key_recoveries.button_context', { name: account.display_name });
      await card
        .getByRole('button', { name: `${text('key_recoveries.approve')} ${context}` })
        .click();
      await card.locator('.command-line').waitFor();
      await check(sp, 'account recovery with an approved recovery');

      const id = await card.getAttribute('data-recovery-id');
      const link = await sendRecoveryLink(env, id, account.email);
      const recovering = await openPage(env, `${recoveredKey} recovering (${size})`, { viewport });
      await recovering.page.goto(link);
      await heading(recovering.page, 'recover.heading').waitFor();
      await recovering.page
        .getByLabel(text('recover.password_label'), { exact: true })
        .waitFor();
      await check(recovering.page, 'recovery link page');

      for (const record of [visitor, operator, second, recovering]) {
        assert.deepEqual(cspViolations(record), [], 'Content-Security-Policy violations');
      }
    });

    e2eTest(env, `manager pages pass axe at ${size} width`, async () => {
      const record = await openPage(env, `la_manager (${size})`, { viewport });
      const { page } = record;
      await signIn(env, record, env.server.users.la_manager);
      await page.getByRole('link', { name: text('nav.workers'), exact: true }).click();
      await heading(page, 'workers.title').waitFor();
      await page.locator('.worker-list > li').first().waitFor();
      await expectNoViolations(page, `workers (${size})`);
      if (viewport === PHONE) await expectNoHorizontalScroll(page, 'workers');
      await page.getByRole('link', { name: text('nav.concerns'), exact: true }).click();
      await heading(page, 'community.concerns.title').waitFor();
      await page.locator('.worker-list > li').first().waitFor();
      await expectNoViolations(page, `safeguarding concerns (${size})`);
      if (viewport === PHONE) await expectNoHorizontalScroll(page, 'safeguarding concerns');

      // An own case with its Legal hold and Erase areas and the erase
      // confirmation open, then the empty list of cases marked for deletion.
      await page.getByRole('link', { name: text('nav.family_finding'), exact: true }).click();
      await heading(page, 'cases.title').waitFor();
      await page.getByRole('link', { name: 'Maisie, Jack', exact: true }).click();
      const erase = page.getByRole('region', {
        name: text('case_retention.erase_title'),
        exact: true,
      });
      await erase
        .getByRole('button', { name: text('case_retention.erase_open'), exact: true })
        .click();
      await erase
        .getByRole('button', { name: text('case_retention.erase_confirm'), exact: true })
        .waitFor();
      await page
        .getByRole('region', { name: text('case_retention.hold_title'), exact: true })
        .getByLabel(text('case_retention.hold_reason_label'), { exact: true })
        .waitFor();
      await expectNoViolations(page, `own case of a manager, asking to erase (${size})`);
      if (viewport === PHONE) await expectNoHorizontalScroll(page, 'own case of a manager');
      await erase
        .getByRole('button', { name: text('case_retention.erase_cancel'), exact: true })
        .click();
      await page
        .getByRole('navigation', { name: text('nav.ff.label') })
        .getByRole('link', { name: text('nav.ff.marked'), exact: true })
        .click();
      await heading(page, 'marked_cases.title').waitFor();
      await page.getByText(text('marked_cases.empty'), { exact: true }).waitFor();
      await expectNoViolations(page, `marked for deletion (${size})`);
      if (viewport === PHONE) await expectNoHorizontalScroll(page, 'marked for deletion');

      // A request of my own, then the staff list with it and its refusal form open.
      await page
        .locator('#user-area')
        .getByRole('link', { name: text('nav.rights'), exact: true })
        .click();
      await heading(page, 'rights.title').waitFor();
      await page
        .getByLabel(text('rights.kind_label'), { exact: true })
        .selectOption({ label: text('rights.kind.restriction') });
      await page.getByRole('button', { name: text('rights.submit'), exact: true }).click();
      await page.locator('.rights-card').first().waitFor();
      await expectNoViolations(page, `your data rights with a request (${size})`);
      if (viewport === PHONE) await expectNoHorizontalScroll(page, 'your data rights');
      await page.getByRole('link', { name: text('nav.rights_requests'), exact: true }).click();
      await heading(page, 'rights_requests.title').waitFor();
      const request = page.locator('.rights-card').first();
      await request
        .getByRole('button', { name: new RegExp(`^${text('rights_requests.refuse')} `) })
        .click();
      await request.getByLabel(text('rights_requests.reason_label'), { exact: true }).waitFor();
      await expectNoViolations(page, `rights requests of a manager, refusing (${size})`);
      if (viewport === PHONE) await expectNoHorizontalScroll(page, 'rights requests of a manager');
      assert.deepEqual(cspViolations(record), [], 'Content-Security-Policy violations');
    });
  }

  e2eTest(env, 'keyboard alone signs in and sends', async () => {
    const user = env.server.users.birth_parent;
    const record = await openPage(env, 'keyboard');
    const { page } = record;
    await page.goto(`${env.server.address}/#/sign-in`);
    await heading(page, 'signin.title').waitFor();

    const email = page.getByLabel(text('signin.email'), { exact: true });
    const password = page.getByLabel(text('signin.password'), { exact: true });
    await tabTo(page, email, 3, 'email field');
    await expectVisibleFocus(page, 'email field');
    await page.keyboard.type(user.email);
    await page.keyboard.press('Tab');
    assert.ok(
      await password.evaluate((element) => element === document.activeElement),
      'Tab from the email field moves to the password field',
    );
    await page.keyboard.type(user.password);
    await page.keyboard.press('Enter');
    await heading(page, 'conversations.title').waitFor();

    const link = page.locator('.conversation-card').first().getByRole('link');
    await tabTo(page, link, 10, 'first conversation link');
    await expectVisibleFocus(page, 'conversation link');
    await page.keyboard.press('Enter');

    const composer = page.getByLabel(text('conversation.composer_label'), { exact: true });
    await composer.waitFor();
    await tabTo(page, composer, 10, 'message composer');
    await expectVisibleFocus(page, 'message composer');
    const body = uniqueBody('Typed without a mouse');
    await page.keyboard.type('Line one');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type(body);
    await page.keyboard.press('Enter');
    await waitForStatus(page, body, 'conversation.status.sent');
    const shownBody = await page
      .locator('.message', { hasText: body })
      .locator('.message__body')
      .innerText();
    assert.equal(shownBody, `Line one\n${body}`, 'Shift+Enter keeps a new line in the message');
    await eventually(async () => assert.equal(await composer.inputValue(), '', 'composer emptied'));

    const send = page.getByRole('button', { name: text('conversation.send'), exact: true });
    await tabTo(page, send, 3, 'Send button');
    await expectVisibleFocus(page, 'Send button');
  });
});
