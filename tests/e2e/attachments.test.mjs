// Files in the demo contact link: the adoptive parent attaches a video, a
// photo and a PDF letter, watches them upload and process, and sends them.
// Both families then see a player, a thumbnail or a download link. The
// media are made with the ffmpeg tool when the tests start.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import { promisify } from 'node:util';

import {
  e2eTest,
  eventually,
  expectNoViolations,
  messagesWithBody,
  minimalPdf,
  openConversation,
  openSignedIn,
  text,
  uniqueBody,
  useServerAndBrowser,
} from './harness.mjs';

const run = promisify(execFile);

// Processing runs the ffmpeg tool on one worker, so a video can take a
// while on a busy machine.
const PROCESSING_TIMEOUT_MS = 90_000;

/** Writes a 4-second 640 × 360 H.264 and AAC video, a 1280 × 960 JPEG photo and a PDF. */
async function makeMedia(folder) {
  const ffmpeg = (...args) => run('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args]);
  const video = path.join(folder, 'first swim.mp4');
  await ffmpeg(
    '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=4',
    '-f', 'lavfi', '-i', 'sine=frequency=440:duration=4',
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', video,
  );
  const photo = path.join(folder, 'birthday.jpg');
  await ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=1280x960', '-frames:v', '1', photo);
  const letter = path.join(folder, 'letter.pdf');
  await writeFile(letter, minimalPdf());
  const notes = path.join(folder, 'notes.txt');
  await writeFile(notes, 'Plain text is not a file type that can be shared.\n');
  return { video, photo, letter, notes };
}

/** Chooses `paths` through the composer's attach button and the file chooser it opens. */
async function attachFiles(page, paths) {
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: text('attachment.attach'), exact: true }).click();
  await (await chooser).setFiles(paths);
}

/** Returns the composer's entry of the file `name`. */
function draft(page, name) {
  return page.locator('.draft').filter({ hasText: name });
}

/**
 * Records every text the state lines of the composer's files show, in
 * order, in `window.draftStates`, so short-lived states are not missed.
 */
async function recordDraftStates(page) {
  await page.evaluate(() => {
    window.draftStates = [];
    const lastStates = new Map();
    const form = document.querySelector('form.composer');
    const observer = new MutationObserver(() => {
      for (const state of form.querySelectorAll('.draft__state')) {
        const name = state.closest('.draft').querySelector('.draft__name').textContent;
        if (lastStates.get(name) === state.textContent) continue;
        lastStates.set(name, state.textContent);
        window.draftStates.push(`${name}: ${state.textContent}`);
      }
    });
    observer.observe(form, { subtree: true, childList: true, characterData: true });
  });
}

/**
 * Waits until the server has stored my message `body`. The other family
 * has the conversation open, so it may show as Read without ever showing
 * as Sent.
 */
async function waitForStored(page, body) {
  const stored = [text('conversation.status.sent'), text('conversation.status.read')];
  await eventually(async () => {
    const status = await messagesWithBody(page, body).locator('.message__status').textContent();
    assert.ok(stored.includes(status?.trim()), `status of my message "${body}": ${status}`);
  });
}

/** Types `body` into the composer and sends it with the Send button. */
async function sendWithButton(page, body) {
  await page.getByLabel(text('conversation.composer_label'), { exact: true }).fill(body);
  await page.getByRole('button', { name: text('conversation.send'), exact: true }).click();
}

function escapeRegExp(value) {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches a catalogue text with a `{percent}` placeholder, capturing the number. */
function percentPattern(key) {
  const [start, end] = text(key).split('{percent}');
  return new RegExp(`^${escapeRegExp(start)}(\\d+)${escapeRegExp(end)}$`);
}

/** Matches the download link text of the file `name`, whatever its size. */
function downloadPattern(name) {
  const [start, end] = text('attachment.download', { name }).split('{size}');
  return new RegExp(`^${escapeRegExp(start)}.+${escapeRegExp(end)}$`);
}

describe('attachments in a contact link', () => {
  const env = useServerAndBrowser();
  let folder;
  let media;

  before(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'kinlink-e2e-media-'));
    media = await makeMedia(folder);
  });
  after(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  e2eTest(env, 'video uploads, plays and seeks', async () => {
    const adoptive = await openSignedIn(env, 'adoptive_parent');
    const birth = await openSignedIn(env, 'birth_parent');
    await openConversation(adoptive.page, 'contact_link');
    await openConversation(birth.page, 'contact_link');

    // Every response to a request for a range of a file's bytes.
    const ranged = [];
    birth.page.on('response', async (response) => {
      if (!response.url().includes('/api/v1/files/')) return;
      const headers = await response.request().allHeaders();
      if (headers.range) ranged.push({ url: response.url(), status: response.status() });
    });

    const name = path.basename(media.video);
    await recordDraftStates(adoptive.page);
    await attachFiles(adoptive.page, [media.video]);
    const progress = adoptive.page.getByRole('progressbar', {
      name: text('attachment.progress_label', { name }),
      exact: true,
    });
    await progress.waitFor();

    // The bar reaches done: every byte sent and the video processed.
    await eventually(async () => {
      const state = await draft(adoptive.page, name).locator('.draft__state').innerText();
      assert.equal(state, text('attachment.ready'), 'state of the video');
    }, PROCESSING_TIMEOUT_MS);
    assert.equal(await progress.evaluate((bar) => bar.value), 100, 'progress when ready');

    // States go from uploading through processing to ready, never back.
    const states = await adoptive.page.evaluate(() => window.draftStates);
    assert.ok(states.length > 0, 'no state of the video was recorded');
    const phases = states.map((entry) => {
      const state = entry.slice(name.length + 2);
      if (percentPattern('attachment.uploading').test(state)) return 'uploading';
      if (percentPattern('attachment.processing').test(state)) return 'processing';
      if (state === text('attachment.ready')) return 'ready';
      return `unexpected "${state}"`;
    });
    const order = [...new Set(phases)];
    assert.deepEqual(order, ['uploading', 'processing', 'ready'], `states: ${states.join(' | ')}`);
    await expectNoViolations(adoptive.page, 'a conversation with a file to send');

    const body = uniqueBody('Emma in the pool');
    await sendWithButton(adoptive.page, body);
    await waitForStored(adoptive.page, body);
    assert.equal(await adoptive.page.locator('.draft').count(), 0, 'files left in the composer');

    // The player appears for the sender and for the birth parent.
    const senderVideo = messagesWithBody(adoptive.page, body).locator('video');
    await senderVideo.waitFor();
    const video = messagesWithBody(birth.page, body).locator('video');
    await video.waitFor();
    for (const [who, player] of [
      ['sender', senderVideo],
      ['birth parent', video],
    ]) {
      assert.equal(await player.getAttribute('preload'), 'metadata', `preload for the ${who}`);
      assert.ok(await player.getAttribute('controls') !== null, `controls for the ${who}`);
      assert.match(await player.getAttribute('poster'), /\/renditions\/poster$/, `poster for the ${who}`);
    }
    const download = messagesWithBody(birth.page, body).locator('.attachment__download');
    assert.match(await download.getAttribute('href'), /\?download=true$/, 'download link');

    // Play it, then seek to the middle.
    const canPlay = await video.evaluate((element) =>
      element.canPlayType('video/mp4; codecs="avc1.640028, mp4a.40.2"'),
    );
    assert.notEqual(canPlay, '', 'Chromium plays H.264 and AAC in MP4');
    await video.evaluate((element) => {
      element.muted = true;
      return element.play();
    });
    await eventually(async () => {
      const time = await video.evaluate((element) => element.currentTime);
      assert.ok(time > 0, `playing video at ${time} s`);
    });
    const middle = await video.evaluate(async (element) => {
      element.pause();
      const target = element.duration / 2;
      const seeked = new Promise((resolve) => {
        element.addEventListener('seeked', resolve, { once: true });
      });
      element.currentTime = target;
      await seeked;
      return { target, time: element.currentTime, duration: element.duration };
    });
    assert.ok(middle.duration > 3.5, `duration ${middle.duration} s`);
    assert.ok(middle.duration < 4.5, `duration ${middle.duration} s`);
    assert.ok(Math.abs(middle.time - middle.target) < 0.5, `seeked to ${middle.time} s`);

    const videoSource = await video.evaluate((element) => element.currentSrc);
    const partial = ranged.filter(
      (response) => response.url === videoSource && response.status === 206,
    );
    assert.ok(
      partial.length > 0,
      `no range request for ${videoSource} was answered 206: ${JSON.stringify(ranged)}`,
    );
    await expectNoViolations(birth.page, 'a conversation with a video');
  });

  e2eTest(env, 'photo and letter after a dropped request', async () => {
    const adoptive = await openSignedIn(env, 'adoptive_parent');
    const birth = await openSignedIn(env, 'birth_parent');
    await openConversation(adoptive.page, 'contact_link');
    await openConversation(birth.page, 'contact_link');

    // The first request with bytes fails as a dropped connection would,
    // before it reaches the server, so the upload must resume.
    let dropped = 0;
    await adoptive.page.route('**/api/v1/uploads/*', async (route) => {
      if (route.request().method() === 'PATCH' && dropped === 0) {
        dropped += 1;
        await route.abort('connectionreset');
        return;
      }
      await route.fallback();
    });

    const photoName = path.basename(media.photo);
    const letterName = path.basename(media.letter);
    const notesName = path.basename(media.notes);
    await recordDraftStates(adoptive.page);
    await attachFiles(adoptive.page, [media.photo, media.letter, media.notes]);

    // A plain text file is rejected, and the message waits until it is removed.
    const notes = draft(adoptive.page, notesName);
    await eventually(async () => {
      const state = await notes.locator('.draft__state').innerText();
      assert.equal(state, text('error.media.unsupported'), 'state of the text file');
    });
    const body = uniqueBody('Birthday photo and a letter');
    await sendWithButton(adoptive.page, body);
    await adoptive.page.getByText(text('attachment.remove_failed'), { exact: true }).waitFor();
    assert.equal(await messagesWithBody(adoptive.page, body).count(), 0, 'message sent early');
    await notes.getByRole('button', { name: `${text('attachment.remove')} ${notesName}` }).click();
    assert.equal(await notes.count(), 0, 'text file still listed');

    for (const name of [photoName, letterName]) {
      await eventually(async () => {
        const state = await draft(adoptive.page, name).locator('.draft__state').innerText();
        assert.equal(state, text('attachment.ready'), `state of ${name}`);
      }, PROCESSING_TIMEOUT_MS);
    }
    assert.equal(dropped, 1, 'dropped requests');
    const states = await adoptive.page.evaluate(() => window.draftStates);
    assert.ok(
      states.some((entry) => entry.endsWith(`: ${text('attachment.waiting')}`)),
      `no retry after the dropped request: ${states.join(' | ')}`,
    );
    await adoptive.page.unroute('**/api/v1/uploads/*');

    await sendWithButton(adoptive.page, body);
    await waitForStored(adoptive.page, body);

    for (const [who, page] of [
      ['sender', adoptive.page],
      ['birth parent', birth.page],
    ]) {
      const message = messagesWithBody(page, body);
      const thumbnail = message.getByRole('img', {
        name: text('attachment.photo_alt', { name: photoName }),
        exact: true,
      });
      await thumbnail.waitFor();
      await eventually(async () => {
        const width = await thumbnail.evaluate((image) => image.complete && image.naturalWidth);
        assert.ok(width > 0, `thumbnail width for the ${who}: ${width}`);
      });
      const width = await thumbnail.evaluate((image) => image.naturalWidth);
      assert.ok(width <= 320, `thumbnail width for the ${who}: ${width}`);
      const link = message.locator('.attachment__photo');
      assert.match(await link.getAttribute('href'), /\/renditions\/main$/, `photo link for the ${who}`);

      const letter = message.getByRole('link', { name: downloadPattern(letterName) });
      assert.match(await letter.getAttribute('href'), /\?download=true$/, `letter link for the ${who}`);
      const response = await page.request.get(new URL(await letter.getAttribute('href'), page.url()).href);
      assert.equal(response.status(), 200, `letter download status for the ${who}`);
      assert.match(response.headers()['content-disposition'], /^attachment/, 'letter disposition');
      assert.ok((await response.body()).toString('latin1').startsWith('%PDF-'), 'letter content');
    }
    await expectNoViolations(birth.page, 'a conversation with a photo and a letter');
  });
});
