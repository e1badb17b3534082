// Photos and video in a family-finding profile. The council's practitioner
// opens the demo sibling group "Maisie, Jack", meets the error of a text
// file given as a photo, then adds a photo and a video made with the
// ffmpeg tool and watches them become ready. The agency's practitioner
// sees both on the same case, without any control to change them. Last,
// the council's practitioner removes the photo, and the agency no longer
// sees it. Each new state of the page is checked with axe on the way.

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
  heading,
  openSignedIn,
  text,
  useServerAndBrowser,
} from './harness.mjs';

const run = promisify(execFile);

// Processing runs the ffmpeg tool on one worker, so a video can take a
// while on a busy machine.
const PROCESSING_TIMEOUT_MS = 90_000;

const SIBLINGS_TITLE = 'Maisie, Jack';

/** The upload speed while the video is sent, slow enough for the progress bar to show. */
const UPLOAD_BYTES_PER_SECOND = 256 * 1024;

/** Writes a 4-second 640 × 360 H.264 and AAC video, a 1280 × 960 JPEG photo and a text file. */
async function makeMedia(folder) {
  const ffmpeg = (...args) => run('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args]);
  const video = path.join(folder, 'football.mp4');
  await ffmpeg(
    '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=4',
    '-f', 'lavfi', '-i', 'sine=frequency=440:duration=4',
    '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', video,
  );
  const photo = path.join(folder, 'drawing.jpg');
  await ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=1280x960', '-frames:v', '1', photo);
  const notes = path.join(folder, 'notes.txt');
  await writeFile(notes, 'Plain text is not a photo.\n');
  return { video, photo, notes };
}

function label(scope, key, params) {
  return scope.getByLabel(text(key, params), { exact: true });
}

function button(scope, key, params) {
  return scope.getByRole('button', { name: text(key, params), exact: true });
}

function region(page, key, params) {
  return page.getByRole('region', { name: text(key, params), exact: true });
}

function escapeRegExp(value) {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches a catalogue text with a `{percent}` placeholder. */
function percentPattern(key) {
  const [start, end] = text(key).split('{percent}');
  return new RegExp(`^${escapeRegExp(start)}\\d+${escapeRegExp(end)}$`);
}

/** Returns the Remove button of an item whose hidden context is `context`. */
function removeButton(scope, context) {
  return scope.getByRole('button', { name: `${text('case_media.remove')} ${context}`, exact: true });
}

/** Matches the name of the Remove button of a photo in progress or failed, whatever its time. */
function pendingPhotoRemoveName() {
  const [start] = text('case_media.context.pending.photo').split('{time}');
  return new RegExp(`^${escapeRegExp(`${text('case_media.remove')} ${start}`)}`);
}

async function isFocused(locator) {
  return locator.evaluate((element) => element === document.activeElement);
}

/** Opens my organisation's case `title` from the Family finding section's case list. */
async function openOwnCase(page, title) {
  await page
    .getByRole('navigation', { name: text('nav.label') })
    .getByRole('link', { name: text('nav.family_finding'), exact: true })
    .click();
  await heading(page, 'cases.title').waitFor();
  await page.getByRole('link', { name: title, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: title, exact: true }).waitFor();
}

/** Returns the thumbnail of ready photo `position` of `count` in the area. */
function thumbnail(area, position, count) {
  return area.getByRole('img', {
    name: text('case_media.photo_alt', { position, count }),
    exact: true,
  });
}

/** Waits until `image` has loaded a picture, and returns its natural width. */
async function loadedWidth(image, reader) {
  return eventually(async () => {
    const width = await image.evaluate((element) => element.complete && element.naturalWidth);
    assert.ok(width > 0, `thumbnail width for ${reader}: ${width}`);
    return width;
  });
}

/** Waits until `video` has read its metadata, and returns its duration in seconds. */
async function loadedDuration(video, reader) {
  return eventually(async () => {
    const state = await video.evaluate((element) => ({
      readyState: element.readyState,
      duration: element.duration,
      error: element.error?.code ?? null,
    }));
    assert.equal(state.error, null, `video error for ${reader}`);
    assert.ok(state.readyState >= 1, `video metadata for ${reader}: ready state ${state.readyState}`);
    return state.duration;
  });
}

/** Loads the video's poster picture in the page and returns its natural width. */
async function posterWidth(video) {
  return video.evaluate(
    (element) =>
      new Promise((resolve, reject) => {
        const image = new Image();
        image.addEventListener('load', () => resolve(image.naturalWidth));
        image.addEventListener('error', () => reject(new Error(`poster ${element.poster} failed`)));
        image.src = element.poster;
      }),
  );
}

/** Fetches `href` with the page's session and returns the response. */
async function fetchFromPage(page, href) {
  return page.request.get(new URL(href, page.url()).href);
}

describe('photos and video in a profile', () => {
  const env = useServerAndBrowser();
  let folder;
  let media;

  before(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'kinlink-e2e-case-media-'));
    media = await makeMedia(folder);
  });
  after(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  e2eTest(env, 'profile photo and video added, seen, removed', async () => {
    const council = await openSignedIn(env, 'la_practitioner');
    const page = council.page;
    await openOwnCase(page, SIBLINGS_TITLE);
    const caseUrl = page.url();
    const area = region(page, 'case_media.title');
    await area.getByText(text('case_media.empty_own'), { exact: true }).waitFor();
    await expectNoViolations(page, 'own case without photos');

    // A text file given as a photo is rejected, and the error next to the
    // field names the reason. The failed upload stays listed until it is removed.
    const photoInput = label(area, 'case_media.file_label.photo');
    await photoInput.setInputFiles(media.notes);
    await button(area, 'case_media.add.photo').click();
    const wrongKind = text('case_media.failure.wrong_kind.photo');
    await area
      .getByText(text('case_media.not_added.photo', { reason: wrongKind }), { exact: true })
      .waitFor();
    assert.equal(await photoInput.getAttribute('aria-invalid'), 'true', 'photo input invalid');
    assert.ok(await isFocused(photoInput), 'focus moves to the photo input');
    const pending = area.getByRole('list', { name: text('case_media.pending_label'), exact: true });
    const failed = pending.locator('.case-media__item--failed');
    await failed
      .getByText(text('case_media.state.failed', { reason: wrongKind }), { exact: true })
      .waitFor();
    await expectNoViolations(page, 'own case with a rejected photo');
    await failed.getByRole('button', { name: pendingPhotoRemoveName() }).click();
    await button(failed, 'case_media.remove_confirm.photo').click();
    await area.getByText(text('case_media.removed.photo'), { exact: true }).waitFor();
    assert.equal(await failed.count(), 0, 'failed photo still listed');

    // A photo uploads, is processed and shows as a thumbnail that loaded.
    await photoInput.setInputFiles(media.photo);
    await button(area, 'case_media.add.photo').click();
    await area.getByText(text('case_media.added.photo'), { exact: true }).waitFor();
    assert.equal(await photoInput.getAttribute('aria-invalid'), null, 'photo input valid again');
    const ownPhoto = thumbnail(area, 1, 1);
    await ownPhoto.waitFor({ timeout: PROCESSING_TIMEOUT_MS });
    const width = await loadedWidth(ownPhoto, 'the council');
    assert.ok(width <= 320, `thumbnail width: ${width}`);
    const photoLink = area.locator('.case-media__photo-link');
    const mainHref = await photoLink.getAttribute('href');
    assert.match(mainHref, /\/media\/[0-9a-f-]+\/main$/, 'photo link');
    assert.equal(await photoLink.getAttribute('target'), '_blank', 'photo link target');
    const main = await fetchFromPage(page, mainHref);
    assert.equal(main.status(), 200, 'main picture status');
    assert.equal(main.headers()['content-type'], 'image/jpeg', 'main picture type');
    await area.getByText(text('case_media.ready.photo'), { exact: true }).waitFor();

    // A video uploads, with a progress bar while its bytes are sent over a
    // slowed connection, is processed and shows in a player with a poster.
    const network = await council.context.newCDPSession(page);
    await network.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: UPLOAD_BYTES_PER_SECOND,
    });
    const videoInput = label(area, 'case_media.file_label.video');
    await videoInput.setInputFiles(media.video);
    await button(area, 'case_media.add.video').click();
    const progress = area.getByRole('progressbar', {
      name: text('case_media.progress_label.video'),
      exact: true,
    });
    await progress.waitFor();
    assert.match(
      await progress.locator('..').innerText(),
      percentPattern('attachment.uploading'),
      'upload state',
    );
    assert.equal(await button(area, 'case_media.add.video').isDisabled(), true, 'button while sending');
    await area.getByText(text('case_media.added.video'), { exact: true }).waitFor();
    assert.equal(await progress.isHidden(), true, 'progress bar after sending');
    await network.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    const ownVideo = area.locator('video');
    await ownVideo.waitFor({ timeout: PROCESSING_TIMEOUT_MS });
    assert.equal(await ownVideo.getAttribute('preload'), 'metadata', 'video preload');
    assert.notEqual(await ownVideo.getAttribute('controls'), null, 'video controls');
    assert.match(await ownVideo.getAttribute('poster'), /\/poster$/, 'video poster');
    assert.match(await ownVideo.getAttribute('src'), /\/main$/, 'video source');
    const duration = await loadedDuration(ownVideo, 'the council');
    assert.ok(duration > 3.5, `video duration ${duration} s`);
    assert.ok(duration < 4.5, `video duration ${duration} s`);
    assert.ok((await posterWidth(ownVideo)) > 0, 'poster width');

    // The child's profile takes one video, so the form gives way to a note.
    await area.getByText(text('case_media.full.video'), { exact: true }).waitFor();
    assert.equal(await button(area, 'case_media.add.video').count(), 0, 'Add a video shown');
    assert.equal(await pending.isHidden(), true, 'list of items not ready shown');
    await expectNoViolations(page, 'own case with a photo and a video');

    // The agency sees the photo and the video, and nothing to change them with.
    const agency = await openSignedIn(env, 'va_practitioner');
    const ap = agency.page;
    await ap.goto(caseUrl);
    await ap.getByRole('heading', { level: 1, name: SIBLINGS_TITLE, exact: true }).waitFor();
    const seen = region(ap, 'case_media.title');
    await loadedWidth(thumbnail(seen, 1, 1), 'the agency');
    const agencyDuration = await loadedDuration(seen.locator('video'), 'the agency');
    assert.ok(agencyDuration > 3.5, `video duration for the agency ${agencyDuration} s`);
    assert.equal(
      await seen.getByRole('button', { name: new RegExp(`^${text('case_media.remove')}`) }).count(),
      0,
      'Remove buttons shown to the agency',
    );
    assert.equal(await seen.locator('input[type=file]').count(), 0, 'file inputs shown to the agency');
    assert.equal(await seen.locator('form').count(), 0, 'forms shown to the agency');
    await expectNoViolations(ap, 'case of another organisation with a photo and a video');

    // The council removes the photo after confirming, and focus goes to the area's heading.
    await removeButton(area, text('case_media.context.photo', { position: 1, count: 1 })).click();
    await area.getByText(text('case_media.remove_title.photo'), { exact: true }).waitFor();
    await button(area, 'case_media.remove_confirm.photo').click();
    await area.getByText(text('case_media.removed.photo'), { exact: true }).waitFor();
    assert.equal(await area.getByRole('img').count(), 0, 'photos left for the council');
    assert.ok(
      await isFocused(area.getByRole('heading', { name: text('case_media.title'), exact: true })),
      'focus moves to the heading',
    );
    assert.equal(await area.locator('video').count(), 1, 'video kept');
    assert.equal((await fetchFromPage(page, mainHref)).status(), 404, 'removed photo still served');

    await ap.reload();
    await ap.getByRole('heading', { level: 1, name: SIBLINGS_TITLE, exact: true }).waitFor();
    await seen.locator('video').waitFor();
    assert.equal(await seen.getByRole('img').count(), 0, 'photos left for the agency');
  });
});
