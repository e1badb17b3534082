// Files in letters and the practitioner's case notes, in the demo contact
// links. The birth parent attaches a photo to a letter, is told that a
// person will look at it and submits. The practitioner reviews the photo
// and its finding and releases it, and the released letter appears on
// the adoptive parent's open page without a reload. In the second link,
// whose agreement lets each family send documents and photos only, a
// sound recording is refused and removed. The practitioner
// keeps case notes that the birth parent's page never shows. The media
// are made with the ffmpeg tool when the tests start.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import { promisify } from 'node:util';

import {
  e2eTest,
  eventually,
  expectNoViolations,
  heading,
  openConversation,
  openSignedIn,
  text,
  useServerAndBrowser,
} from './harness.mjs';

const run = promisify(execFile);

// Processing runs the ffmpeg tool on one worker, which can be slow on a busy machine.
const PROCESSING_TIMEOUT_MS = 90_000;

/** Writes a 1280 × 960 JPEG photo and a 2-second sound recording in M4A. */
async function makeMedia(folder) {
  const ffmpeg = (...args) => run('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args]);
  const photo = path.join(folder, 'garden.jpg');
  await ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=1280x960', '-frames:v', '1', photo);
  const sound = path.join(folder, 'song.m4a');
  await ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:duration=2', '-c:a', 'aac', sound);
  return { photo, sound };
}

function lettersRegion(page) {
  return page.getByRole('region', { name: text('letters.title'), exact: true });
}

function filesRegion(page) {
  return page.getByRole('region', { name: text('letter.files.title'), exact: true });
}

function findingsList(page) {
  return page.getByRole('list', { name: text('findings.title'), exact: true });
}

function caseNotesRegion(page) {
  return page.getByRole('region', { name: text('case_notes.title'), exact: true });
}

function letterText(page) {
  return page.getByLabel(text('letter.body_label'), { exact: true });
}

function statusHeading(page, status) {
  const name = text(`letter.status.${status}`);
  return page.getByRole('heading', { level: 2, name, exact: true });
}

/** Chooses `paths` through the letter's attach button and the file chooser it opens. */
async function attachToLetter(page, paths) {
  const chooser = page.waitForEvent('filechooser');
  await filesRegion(page).getByRole('button', { name: text('letter.files.attach') }).click();
  await (await chooser).setFiles(paths);
}

/** Starts a letter from the contact link's page and types `body`. */
async function startLetter(page, body) {
  await openConversation(page, 'contact_link');
  await lettersRegion(page).getByRole('button', { name: text('letters.write') }).click();
  await heading(page, 'letter.title_yours').waitFor();
  await letterText(page).fill(body);
}

/** Waits until the save state reads Saved. */
async function waitForSaved(page) {
  await eventually(async () => {
    const state = await page.locator('#letter-save-state').innerText();
    assert.equal(state, text('letter.save.saved'), 'save state');
  });
}

/** Waits until the thumbnail `name` of a ready photo has loaded in `scope`. */
async function waitForThumbnail(scope, name, who) {
  const thumbnail = scope.getByRole('img', {
    name: text('attachment.photo_alt', { name }),
    exact: true,
  });
  await thumbnail.waitFor({ timeout: PROCESSING_TIMEOUT_MS });
  await eventually(async () => {
    const width = await thumbnail.evaluate((image) => image.complete && image.naturalWidth);
    assert.ok(width > 0, `thumbnail width for the ${who}: ${width}`);
  });
  return thumbnail;
}

describe('files in letters and case notes', () => {
  const env = useServerAndBrowser();
  let folder;
  let media;

  before(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'kinlink-e2e-letter-media-'));
    media = await makeMedia(folder);
  });
  after(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  e2eTest(env, 'photo reviewed, released and shown live', async () => {
    const { users } = env.server;
    const writerName = users.birth_parent.display_name;
    const photoName = path.basename(media.photo);

    // The adoptive parent has the contact link open before anything is released.
    const adoptive = await openSignedIn(env, 'adoptive_parent');
    await openConversation(adoptive.page, 'contact_link');
    const loadsBefore = adoptive.loads;

    const birth = await openSignedIn(env, 'birth_parent');
    await startLetter(birth.page, 'Dear both,\nHere is a photo of the garden in spring.');
    await attachToLetter(birth.page, [media.photo]);

    // The photo is uploaded, saved with the letter and flagged for a person to look at.
    const photoFinding = findingsList(birth.page)
      .getByRole('listitem')
      .filter({ hasText: text('findings.rule.needs_person_to_look') });
    await photoFinding.waitFor({ timeout: PROCESSING_TIMEOUT_MS });
    assert.match(await photoFinding.innerText(), new RegExp(photoName.replace('.', '\\.')));
    await eventually(async () => {
      const state = await filesRegion(birth.page).locator('.draft__state').innerText();
      assert.equal(state, text('attachment.ready'), 'state of the photo');
    }, PROCESSING_TIMEOUT_MS);
    await waitForSaved(birth.page);
    await expectNoViolations(birth.page, 'letter editor with a photo');

    await birth.page.getByRole('button', { name: text('letter.submit'), exact: true }).click();
    await statusHeading(birth.page, 'submitted').waitFor();
    await waitForThumbnail(birth.page, photoName, 'writer');
    const writerLoads = birth.loads;

    // The practitioner sees the photo and its finding, and releases the letter.
    const practitioner = await openSignedIn(env, 'la_practitioner');
    const { page: review } = practitioner;
    const navigation = review.getByRole('navigation');
    await navigation.getByRole('link', { name: text('nav.review_queue') }).click();
    await heading(review, 'review_queue.title').waitFor();
    await review.getByRole('link', { name: text('letters.from', { name: writerName }) }).click();
    await heading(review, 'letter.title_from', { name: writerName }).waitFor();
    await waitForThumbnail(review, photoName, 'practitioner');
    const reviewFinding = findingsList(review)
      .getByRole('listitem')
      .filter({ hasText: text('findings.rule.needs_person_to_look') });
    await reviewFinding.getByText(photoName).waitFor();
    const link = review.locator('.attachment__photo');
    assert.match(await link.getAttribute('href'), /\/renditions\/main$/, 'photo link in review');
    await expectNoViolations(review, 'letter review with a photo');
    await review.getByRole('button', { name: text('review.release'), exact: true }).click();
    await statusHeading(review, 'released').waitFor();

    // The released letter appears on the adoptive parent's page without a reload.
    const delivered = lettersRegion(adoptive.page)
      .getByRole('listitem')
      .filter({ hasText: text('letter.status.released') });
    await delivered.waitFor();
    assert.equal(adoptive.loads, loadsBefore, 'page loads of the adoptive parent');

    // The writer's open letter shows it was delivered, also without a reload.
    await statusHeading(birth.page, 'released').waitFor();
    await birth.page.getByText(text('letter.changed_notice'), { exact: true }).waitFor();
    assert.equal(birth.loads, writerLoads, 'page loads of the writer');

    await delivered.getByRole('link', { name: text('letters.from', { name: writerName }) }).click();
    await heading(adoptive.page, 'letter.title_from', { name: writerName }).waitFor();
    await waitForThumbnail(adoptive.page, photoName, 'adoptive parent');
    await expectNoViolations(adoptive.page, 'released letter with a photo');
  });

  e2eTest(env, 'file the agreement forbids is rejected', async () => {
    // The demo's second link lets each family send documents and photos.
    const birth = await openSignedIn(env, 'second_birth_relative');
    const soundName = path.basename(media.sound);
    const photoName = path.basename(media.photo);
    await startLetter(birth.page, 'Dear both,\nA song and a photo for you.');

    // The picker offers only documents and photos, as the agreement allows.
    const hint = text('letter.files.hint', {
      kinds: `${text('agreement_page.media.document')} and ${text('agreement_page.media.image')}`,
      max: 10,
    });
    await filesRegion(birth.page).getByText(hint, { exact: true }).waitFor();

    // A sound recording is refused once its bytes show what it is.
    await attachToLetter(birth.page, [media.sound]);
    const sound = filesRegion(birth.page).locator('.draft').filter({ hasText: soundName });
    await eventually(async () => {
      assert.equal(
        await sound.locator('.draft__state').innerText(),
        text('error.media.not_allowed'),
        'state of the sound recording',
      );
    });
    await waitForSaved(birth.page);
    await expectNoViolations(birth.page, 'letter editor with a rejected file');

    // Submitting waits for the rejected file to be removed.
    await birth.page.getByRole('button', { name: text('letter.submit'), exact: true }).click();
    await birth.page.getByText(text('letter.files.remove_failed'), { exact: true }).waitFor();
    await sound.getByRole('button', { name: `${text('attachment.remove')} ${soundName}` }).click();
    assert.equal(await sound.count(), 0, 'sound recording still listed');
    // An empty alert region is not displayed, so its text is read directly.
    assert.equal(
      await filesRegion(birth.page).locator('.alert').textContent(),
      '',
      'alert after removing the file',
    );

    // A photo attached and then removed leaves no finding behind.
    await attachToLetter(birth.page, [media.photo]);
    const photoFinding = findingsList(birth.page)
      .getByRole('listitem')
      .filter({ hasText: text('findings.rule.needs_person_to_look') });
    await photoFinding.waitFor({ timeout: PROCESSING_TIMEOUT_MS });
    const photo = filesRegion(birth.page).locator('.draft').filter({ hasText: photoName });
    await photo.getByRole('button', { name: `${text('attachment.remove')} ${photoName}` }).click();
    await eventually(async () => {
      assert.equal(await photoFinding.count(), 0, 'finding of the removed photo');
    });
    await waitForSaved(birth.page);
    await filesRegion(birth.page).getByText(text('letter.files.empty'), { exact: true }).waitFor();
  });

  e2eTest(env, 'case notes for the practitioner only', async () => {
    const { users } = env.server;
    const practitioner = await openSignedIn(env, 'la_practitioner');
    const { page } = practitioner;
    await openConversation(page, 'contact_link');
    const notes = caseNotesRegion(page);
    await notes.getByText(text('case_notes.empty'), { exact: true }).waitFor();

    // The server rejects a note over 10,000 characters, and the error shows by the field.
    const noteField = notes.getByLabel(text('case_notes.body_label'), { exact: true });
    await noteField.fill('a'.repeat(10_001));
    await notes.getByRole('button', { name: text('case_notes.add'), exact: true }).click();
    await notes.getByText(text('case_notes.body_invalid'), { exact: true }).waitFor();
    assert.equal(await noteField.getAttribute('aria-invalid'), 'true', 'note field marked invalid');
    await expectNoViolations(page, 'case notes with an error');

    const body = 'The birth parent asked about the summer exchange.';
    await noteField.fill(body);
    await notes.getByRole('button', { name: text('case_notes.add'), exact: true }).click();
    const note = notes.getByRole('listitem').filter({ hasText: body });
    await note.waitFor();
    assert.match(await note.innerText(), new RegExp(users.la_practitioner.display_name));
    assert.equal(await noteField.inputValue(), '', 'note field after adding');

    // The note is kept.
    await page.reload();
    await caseNotesRegion(page).getByRole('listitem').filter({ hasText: body }).waitFor();
    await expectNoViolations(page, 'case notes');

    // The birth parent's page of the same link has no case notes.
    const birth = await openSignedIn(env, 'birth_parent');
    await openConversation(birth.page, 'contact_link');
    await lettersRegion(birth.page).getByRole('button', { name: text('letters.write') }).waitFor();
    assert.equal(await caseNotesRegion(birth.page).count(), 0, 'case notes for the birth parent');
    assert.equal(await birth.page.getByText(body).count(), 0, 'note text for the birth parent');
  });
});
