// The live connection drops and comes back: the page shows that it is
// reconnecting, and afterwards shows what was sent meanwhile exactly once,
// including a message it wrote itself while offline.

import assert from 'node:assert/strict';
import { describe } from 'node:test';

import {
  e2eTest,
  eventually,
  expectSingleMessage,
  messagesWithBody,
  openConversation,
  openSignedIn,
  sendMessage,
  text,
  uniqueBody,
  useServerAndBrowser,
  waitForStatus,
} from './harness.mjs';

function connectionStatus(page) {
  return page.getByRole('banner').getByRole('status');
}

describe('reconnecting after a dropped connection', () => {
  const env = useServerAndBrowser();

  e2eTest(env, 'missed and unsent messages arrive once', async () => {
    const { users } = env.server;
    const adoptive = await openSignedIn(env, 'adoptive_parent');
    const birth = await openSignedIn(env, 'birth_parent');
    await openConversation(adoptive.page, 'contact_link');
    await openConversation(birth.page, 'contact_link');

    const before = uniqueBody('Before the outage');
    await sendMessage(birth.page, before);
    await expectSingleMessage(adoptive.page, before, users.birth_parent.display_name);
    assert.equal(await connectionStatus(adoptive.page).innerText(), '', 'status while connected');

    await adoptive.context.setOffline(true);
    await eventually(async () => {
      const status = await connectionStatus(adoptive.page).innerText();
      assert.equal(status.trim(), text('connection.reconnecting'), 'status while offline');
    });

    // Sent by the other family during the outage.
    const missed = uniqueBody('Sent while you were offline');
    await sendMessage(birth.page, missed);
    await waitForStatus(birth.page, missed, 'conversation.status.sent');

    // Written while offline: it waits, then goes out with the same message_id.
    const queued = uniqueBody('Written while offline');
    await sendMessage(adoptive.page, queued);
    await waitForStatus(adoptive.page, queued, 'conversation.status.sending');
    assert.equal(await messagesWithBody(adoptive.page, missed).count(), 0, 'missed message early');

    await adoptive.context.setOffline(false);
    await eventually(async () => {
      const status = await connectionStatus(adoptive.page).innerText();
      assert.equal(status.trim(), '', 'status after reconnecting');
    }, 30_000);

    await expectSingleMessage(adoptive.page, missed, users.birth_parent.display_name);
    await waitForStatus(adoptive.page, queued, 'conversation.status.read');
    await expectSingleMessage(birth.page, queued, users.adoptive_parent.display_name);
    await waitForStatus(birth.page, missed, 'conversation.status.read');

    // A later message proves the stream has moved past anything the server
    // might have sent twice.
    const after = uniqueBody('After the outage');
    await sendMessage(birth.page, after);
    await expectSingleMessage(adoptive.page, after, users.birth_parent.display_name);
    for (const body of [before, missed, queued]) {
      assert.equal(await messagesWithBody(adoptive.page, body).count(), 1, `copies of "${body}"`);
      assert.equal(await messagesWithBody(birth.page, body).count(), 1, `copies of "${body}"`);
    }

    // Messages are in sequence order on both sides.
    for (const record of [adoptive, birth]) {
      const bodies = await record.page.locator('.message__body').allInnerTexts();
      const order = [before, missed, queued, after].map((body) => bodies.indexOf(body));
      assert.ok(order.every((index, i) => i === 0 || index > order[i - 1]), `order ${order}`);
    }
  });
});
