// The adoptive family and the birth family exchange messages in the demo
// contact link. Family members sign in without a second factor.

import assert from 'node:assert/strict';
import { describe } from 'node:test';

import {
  conversationCard,
  e2eTest,
  eventually,
  expectSingleMessage,
  openConversation,
  openSignedIn,
  sendMessage,
  text,
  uniqueBody,
  useServerAndBrowser,
  waitForStatus,
} from './harness.mjs';

describe('contact link between families', () => {
  const env = useServerAndBrowser();

  e2eTest(env, 'unread count, live delivery and read ticks', async () => {
    const { users } = env.server;
    const adoptive = await openSignedIn(env, 'adoptive_parent');
    const birth = await openSignedIn(env, 'birth_parent');

    const adoptiveCard = conversationCard(adoptive.page, 'contact_link');
    assert.equal(await adoptiveCard.count(), 1, 'contact links listed for adoptive_parent');
    assert.match(await adoptiveCard.innerText(), new RegExp(users.birth_parent.display_name));
    const birthCard = conversationCard(birth.page, 'contact_link');
    assert.equal(await birthCard.count(), 1, 'contact links listed for birth_parent');
    assert.match(await birthCard.innerText(), new RegExp(users.adoptive_parent.display_name));

    // A letter sent while the birth parent is on the list shows as unread there.
    await openConversation(adoptive.page, 'contact_link');
    // The link may also list the supervising practitioner, so only the
    // kind and the birth parent's name are checked.
    const title = await adoptive.page.locator('h1').innerText();
    assert.ok(title.startsWith(text('conversations.kind.contact_link')), `heading "${title}"`);
    assert.ok(title.includes(users.birth_parent.display_name), `heading "${title}"`);
    const supervisor = text('conversations.supervisor_name', {
      name: users.la_practitioner.display_name,
    });
    assert.ok(title.includes(supervisor), `heading "${title}" names the supervisor`);
    const letter = uniqueBody('Emma started swimming lessons this week');
    await sendMessage(adoptive.page, letter);
    await waitForStatus(adoptive.page, letter, 'conversation.status.sent');
    await eventually(async () => {
      await birth.page.reload();
      const card = conversationCard(birth.page, 'contact_link');
      const badge = await card.locator('.badge').innerText();
      assert.equal(badge, text('conversations.unread.one', { count: 1 }), 'unread badge');
    });

    // Opening the conversation shows the letter and marks it read for the sender.
    await openConversation(birth.page, 'contact_link');
    await expectSingleMessage(birth.page, letter, users.adoptive_parent.display_name);
    await waitForStatus(adoptive.page, letter, 'conversation.status.read');

    // A live reply, the other way.
    const loadsBefore = adoptive.loads;
    const reply = uniqueBody('That is lovely to hear, thank you');
    await sendMessage(birth.page, reply);
    await expectSingleMessage(birth.page, reply, text('conversation.you'));
    await expectSingleMessage(adoptive.page, reply, users.birth_parent.display_name);
    assert.equal(adoptive.loads, loadsBefore, 'the receiving page did not reload');
    await waitForStatus(birth.page, reply, 'conversation.status.read');

    // Back on the list, nothing is left unread.
    await birth.page.getByRole('link', { name: text('conversation.back') }).click();
    const badge = conversationCard(birth.page, 'contact_link').locator('.badge');
    await eventually(async () => {
      assert.equal(await badge.innerText(), text('conversations.all_read'), 'unread badge');
    });
  });
});

