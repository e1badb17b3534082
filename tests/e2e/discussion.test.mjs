// Two practitioners of different organisations exchange messages in the
// demo discussion. Each receives the other's message live, and then their
// own message shows as Read.

import assert from 'node:assert/strict';
import { describe } from 'node:test';

import {
  conversationCard,
  e2eTest,
  expectSingleMessage,
  heading,
  openConversation,
  openSignedIn,
  sendMessage,
  text,
  uniqueBody,
  useServerAndBrowser,
  waitForStatus,
} from './harness.mjs';

describe('discussion between practitioners', () => {
  const env = useServerAndBrowser();

  e2eTest(env, 'messages arrive live and are marked read', async () => {
    const { users } = env.server;
    const local = await openSignedIn(env, 'la_practitioner');
    const voluntary = await openSignedIn(env, 'va_practitioner');

    const card = conversationCard(local.page, 'discussion');
    assert.equal(await card.count(), 1, 'discussions listed for la_practitioner');
    assert.match(await card.innerText(), new RegExp(users.va_practitioner.display_name));

    await openConversation(local.page, 'discussion');
    await openConversation(voluntary.page, 'discussion');
    await heading(local.page, 'conversation.heading', {
      kind: text('conversations.kind.discussion'),
      names: users.va_practitioner.display_name,
    }).waitFor();
    const loadsBefore = voluntary.loads;

    const first = uniqueBody('Placement meeting moved to Thursday');
    await sendMessage(local.page, first);
    await expectSingleMessage(local.page, first, text('conversation.you'));
    await expectSingleMessage(voluntary.page, first, users.la_practitioner.display_name);
    assert.equal(voluntary.loads, loadsBefore, 'the receiving page did not reload');
    await waitForStatus(local.page, first, 'conversation.status.read');

    const reply = uniqueBody('Thursday suits us');
    await sendMessage(voluntary.page, reply);
    await expectSingleMessage(voluntary.page, reply, text('conversation.you'));
    await expectSingleMessage(local.page, reply, users.va_practitioner.display_name);
    await waitForStatus(voluntary.page, reply, 'conversation.status.read');

    // The other side's messages carry no read tick of mine.
    assert.equal(
      await local.page.locator('.message', { hasText: reply }).locator('.message__status').count(),
      0,
      'status line on a received message',
    );
  });
});
