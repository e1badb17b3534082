// A supervised video call in the demo contact link, with Chromium's fake
// camera and microphone and the server's SFU on 127.0.0.1. The
// practitioner starts the call, both parents wait in the lobby until
// admitted, and every page decodes the video of both others. A paused
// parent's video stops reaching the other parent and resumes when
// admitted again, and ending the call ends it on every page. A server
// that stops, or crashes and starts again, ends the call, and the page
// shows that the server restarted.
//
// The test counts decoded frames with RTCPeerConnection.getStats(). An
// init script records every connection the page makes, so the page
// itself ships no hook for tests.

import assert from 'node:assert/strict';
import { describe } from 'node:test';

import {
  cspViolations,
  DESKTOP,
  e2eTest,
  eventually,
  expectNoViolations,
  openConversation,
  openPage,
  PHONE,
  signIn,
  text,
  useServerAndBrowser,
} from './harness.mjs';

/** How long a page counts decoded frames to tell whether video moves. */
const SAMPLE_MS = 2_000;
/** How long frames already on their way may keep arriving after a pause. */
const SETTLE_MS = 1_500;
/** How long joining, admitting or the first decoded frames may take, more than a page step. */
const MEDIA_TIMEOUT_MS = 45_000;

/** Wraps RTCPeerConnection so that the test can list the page's connections. */
function recordPeerConnections() {
  const Native = window.RTCPeerConnection;
  const connections = [];
  Object.defineProperty(window, 'recordedPeerConnections', { value: connections });
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      connections.push(this);
    }
  };
}

/** Makes every request for a camera fail as a camera blocked in the browser's settings does. */
function blockCamera() {
  const devices = navigator.mediaDevices;
  const getUserMedia = devices.getUserMedia.bind(devices);
  devices.getUserMedia = (constraints) =>
    constraints?.video
      ? Promise.reject(new DOMException('Permission denied', 'NotAllowedError'))
      : getUserMedia(constraints);
}

/** Returns the call's outcome notice that reads `message`. */
function outcomeNotice(page, message) {
  return page.locator('.call p.callout').filter({ hasText: message });
}

/** Returns how many `type` frames the page has sent over its WebSocket. */
function framesSent(record, type) {
  return record.consoleLines.filter(
    (line) => line.startsWith('ws sent: ') && line.includes(`"type":"${type}"`),
  ).length;
}

/** Signs `key` in on a page that records its peer connections and opens the contact link. */
async function openContactLink(env, key, options) {
  const record = await openPage(env, key, options);
  await record.context.addInitScript(recordPeerConnections);
  await signIn(env, record, env.server.users[key]);
  await openConversation(record.page, 'contact_link');
  return record;
}

function button(page, key, params) {
  return page.getByRole('button', { name: text(key, params), exact: true });
}

/** Returns the host's button `key` for participant `name`, whose name ends its accessible name. */
function controlFor(page, key, name) {
  const label = `${text(key)} ${text('call.control_context', { name })}`;
  return page.getByRole('button', { name: label, exact: true });
}

/** Returns the tile whose name line is exactly `name`. */
function tileOf(page, name) {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return page.locator('.call-tile').filter({
    has: page.locator('.call-tile__name', { hasText: new RegExp(`^${escaped}$`) }),
  });
}

/** Returns how many video frames the page decoded of the participant named `name`. */
async function framesDecoded(page, name) {
  return page.evaluate(async (wanted) => {
    const tiles = [...document.querySelectorAll('.call-tile')];
    const tile = tiles.find(
      (each) => each.querySelector('.call-tile__name').textContent === wanted,
    );
    const track = tile?.querySelector('video').srcObject?.getVideoTracks()[0];
    if (!track) return 0;
    for (const connection of window.recordedPeerConnections) {
      if (connection.connectionState === 'closed') continue;
      if (!connection.getReceivers().some((receiver) => receiver.track === track)) continue;
      const stats = await connection.getStats(track);
      for (const report of stats.values()) {
        if (report.type === 'inbound-rtp' && report.kind === 'video') return report.framesDecoded;
      }
    }
    return 0;
  }, name);
}

/** Returns how many frames of `name` the page decoded within SAMPLE_MS. */
async function framesGained(page, name) {
  const before = await framesDecoded(page, name);
  await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
  return (await framesDecoded(page, name)) - before;
}

async function expectVideoMoving(page, name, description) {
  await eventually(async () => {
    const gained = await framesGained(page, name);
    assert.ok(gained > 0, `${description}: ${gained} frames of ${name} decoded`);
  }, MEDIA_TIMEOUT_MS);
}

async function expectBadge(page, name, key) {
  await tileOf(page, name)
    .locator('.badge', { hasText: text(key) })
    .first()
    .waitFor({ timeout: MEDIA_TIMEOUT_MS });
}

async function expectNoHorizontalScroll(page, pageName) {
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  assert.ok(overflow <= 0, `${pageName} scrolls sideways by ${overflow} px`);
}

/** Opens the set-up step with Start or Join and waits for the preview of the fake camera. */
async function openSetup(page, buttonKey) {
  await button(page, buttonKey).click({ timeout: MEDIA_TIMEOUT_MS });
  await page.getByRole('heading', { name: text('call.setup_title') }).waitFor();
  await page.getByLabel(text('call.preview_label')).waitFor({ state: 'visible' });
}

describe('supervised video call', () => {
  const env = useServerAndBrowser({ media: true });

  e2eTest(env, 'admit, pause, resume and end', async () => {
    const { users } = env.server;
    const host = await openContactLink(env, 'la_practitioner');
    const adoptive = await openContactLink(env, 'adoptive_parent');
    const birth = await openContactLink(env, 'birth_parent');
    const hostName = users.la_practitioner.display_name;
    const alex = users.adoptive_parent.display_name;
    const jordan = users.birth_parent.display_name;

    // The parents cannot start a call, and none is on yet.
    for (const parent of [adoptive, birth]) {
      await parent.page.getByText(text('call.none'), { exact: true }).waitFor();
      assert.equal(await button(parent.page, 'call.start').count(), 0, 'Start for a parent');
    }

    await openSetup(host.page, 'call.start');
    const devices = host.page.getByLabel(text('call.camera'), { exact: true });
    assert.ok((await devices.locator('option').count()) >= 1, 'cameras to choose from');
    await expectNoViolations(host.page, 'call set-up');
    await button(host.page, 'call.start_now').click();
    await tileOf(host.page, text('call.you', { name: hostName })).waitFor();
    await host.page.getByText(text('call.lobby_empty'), { exact: true }).waitFor();

    // Both parents learn of the call, set up and wait in the lobby.
    for (const parent of [adoptive, birth]) {
      await openSetup(parent.page, 'call.join');
      await button(parent.page, 'call.join_now').click();
      await parent.page.getByText(text('call.lobby'), { exact: true }).first().waitFor();
    }
    await expectNoViolations(adoptive.page, 'call lobby');
    assert.equal(await adoptive.page.locator('.call-tile').count(), 1, 'tiles in the lobby');

    // Both parents are in the host's lobby list, and the host admits them.
    for (const name of [alex, jordan]) {
      await controlFor(host.page, 'call.admit', name).click();
    }
    await host.page.getByText(text('call.lobby_empty'), { exact: true }).waitFor();

    // Every page decodes the video of both others.
    const watching = [
      [host, [alex, jordan]],
      [adoptive, [hostName, jordan]],
      [birth, [hostName, alex]],
    ];
    for (const [viewer, names] of watching) {
      for (const name of names) {
        await expectVideoMoving(viewer.page, name, `${viewer.label} in the call`);
      }
    }
    await expectNoViolations(host.page, 'call as its host');
    await expectNoViolations(adoptive.page, 'call as a parent');

    // A parent has no control over the others.
    for (const key of ['call.pause', 'call.admit', 'call.remove', 'call.mute_participant']) {
      assert.equal(await controlFor(adoptive.page, key, jordan).count(), 0, `${key} for a parent`);
    }
    assert.equal(await button(adoptive.page, 'call.end').count(), 0, 'End for a parent');
    assert.equal(await button(host.page, 'call.leave').count(), 0, 'Leave for the host');

    // At phone width the call fits without sideways scrolling.
    await birth.page.setViewportSize(PHONE);
    await tileOf(birth.page, alex).scrollIntoViewIfNeeded();
    await expectNoHorizontalScroll(birth.page, 'the call at phone width');
    await expectNoViolations(birth.page, 'call at phone width');
    const tileWidth = await tileOf(birth.page, alex).evaluate((tile) => tile.offsetWidth);
    assert.ok(tileWidth <= PHONE.width, `a tile is ${tileWidth} px wide at phone width`);
    await birth.page.setViewportSize(DESKTOP);

    // Paused, Jordan's video stops reaching Alex while the host's goes on,
    // and Jordan's page shows the paused notice.
    await controlFor(host.page, 'call.pause', jordan).click();
    await expectBadge(adoptive.page, jordan, 'call.badge.paused');
    await birth.page.getByText(text('call.paused'), { exact: true }).first().waitFor();
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    assert.equal(await framesGained(adoptive.page, jordan), 0, 'frames of the paused parent');
    assert.equal(await framesGained(birth.page, alex), 0, 'frames reaching the paused parent');
    await expectVideoMoving(adoptive.page, hostName, 'the rest of the call while paused');

    // Admitted again, Jordan's video moves again.
    await controlFor(host.page, 'call.admit', jordan).click();
    await expectVideoMoving(adoptive.page, jordan, 'after admitting again');
    await expectVideoMoving(birth.page, alex, 'the parent admitted again');
    assert.equal(
      await birth.page.getByText(text('call.paused'), { exact: true }).count(),
      0,
      'paused notice after admitting again',
    );

    // Muting shows on every page.
    await controlFor(host.page, 'call.mute_participant', alex).click();
    await expectBadge(birth.page, alex, 'call.badge.muted');
    await expectBadge(adoptive.page, text('call.you', { name: alex }), 'call.badge.muted_by_host');
    await controlFor(host.page, 'call.unmute_participant', alex).click();

    // Alex's connection drops and comes back: the page joins again and
    // sends fresh offers, and video flows both ways again.
    const joinsBefore = framesSent(adoptive, 'call_join');
    const publishesBefore = framesSent(adoptive, 'call_publish');
    const viewsBefore = framesSent(birth, 'call_view');
    await adoptive.context.setOffline(true);
    await adoptive.page.getByText(text('call.reconnecting'), { exact: true }).waitFor();
    await adoptive.context.setOffline(false);
    // Until the page reconnects, its old media connections still carry
    // video, so the video checks wait for the new offers.
    await eventually(() => {
      assert.ok(framesSent(birth, 'call_view') > viewsBefore, 'Jordan views Alex again');
    }, MEDIA_TIMEOUT_MS);
    assert.equal(framesSent(adoptive, 'call_join'), joinsBefore + 1, 'joins after reconnecting');
    assert.equal(
      framesSent(adoptive, 'call_publish'),
      publishesBefore + 1,
      'publishes after reconnecting',
    );
    await expectVideoMoving(birth.page, alex, 'after Alex reconnected');
    await expectVideoMoving(adoptive.page, jordan, 'Alex after reconnecting');

    // The host ends the call, and every page shows the reason.
    await button(host.page, 'call.end').click();
    await button(host.page, 'call.end_confirm').click();
    const ended = `${text('call.ended')} ${text('call.ended.ended_by_host')}`;
    for (const record of [host, adoptive, birth]) {
      await outcomeNotice(record.page, ended).waitFor();
      assert.equal(await record.page.locator('.call-tile').count(), 0, `tiles on ${record.label}`);
      const open = await record.page.evaluate(
        () =>
          window.recordedPeerConnections.filter((each) => each.connectionState !== 'closed').length,
      );
      assert.equal(open, 0, `open peer connections on ${record.label}`);
      assert.deepEqual(cspViolations(record), [], 'Content-Security-Policy violations');
    }
    await button(host.page, 'call.start').waitFor();
  });

  e2eTest(env, 'blocked camera named, call still starts', async () => {
    const record = await openPage(env, 'la_practitioner without a camera');
    const { page, context } = record;
    await context.addInitScript(blockCamera);
    await signIn(env, record, env.server.users.la_practitioner);
    await openConversation(page, 'contact_link');

    await button(page, 'call.start').click();
    await page.getByText(text('call.problem.camera.denied'), { exact: true }).waitFor();
    await page.getByText(text('call.problem.view_only'), { exact: true }).waitFor();
    assert.equal(
      await page.getByText(text('call.problem.microphone.denied'), { exact: true }).count(),
      0,
      'microphone named as blocked',
    );
    await expectNoViolations(page, 'call set-up with a blocked camera');

    await button(page, 'call.start_now').click();
    const me = text('call.you', { name: env.server.users.la_practitioner.display_name });
    await expectBadge(page, me, 'call.badge.camera_off');
    assert.equal(await button(page, 'call.camera_off').count(), 0, 'camera toggle, no camera');
    await button(page, 'call.microphone_off').click();
    await expectBadge(page, me, 'call.badge.microphone_off');
    await button(page, 'call.microphone_on').waitFor();

    await button(page, 'call.end').click();
    await button(page, 'call.end_confirm').click();
    const ended = `${text('call.ended')} ${text('call.ended.ended_by_host')}`;
    await outcomeNotice(page, ended).waitFor();
  });

  // Last in this file, because it restarts the server the tests share.
  e2eTest(env, 'server restart ends the call', async () => {
    const host = await openContactLink(env, 'la_practitioner');
    const { page } = host;
    const me = text('call.you', { name: env.server.users.la_practitioner.display_name });
    const restarted = `${text('call.ended')} ${text('call.ended.server_restart')}`;

    // Stopped, the server sends the page why the call ended.
    await openSetup(page, 'call.start');
    await button(page, 'call.start_now').click();
    await tileOf(page, me).waitFor({ timeout: MEDIA_TIMEOUT_MS });
    await env.server.restart('SIGTERM');
    await outcomeNotice(page, restarted).waitFor();
    assert.equal(await page.locator('.call-tile').count(), 0, 'tiles after the stop');

    // Killed, it sends nothing. The page reconnects to the restarted
    // server, joins again and learns why the call ended.
    await openSetup(page, 'call.start');
    await button(page, 'call.start_now').click();
    await tileOf(page, me).waitFor({ timeout: MEDIA_TIMEOUT_MS });
    const joinsBefore = framesSent(host, 'call_join');
    await env.server.restart('SIGKILL');
    await outcomeNotice(page, restarted).waitFor({ timeout: MEDIA_TIMEOUT_MS });
    assert.equal(framesSent(host, 'call_join'), joinsBefore + 1, 'joins after reconnecting');
    await expectNoViolations(page, 'call ended by a restart');
  });
});
