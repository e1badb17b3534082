// The community support network, from an application to moderation.
// Someone new requests a link from the sign-in page, takes it from the
// email in the server's outbox, and applies with a display name and a
// password. The demo moderator verifies them by hand. The new member fills
// in their profile with a picture and one detail hidden, accepts the
// rules, and starts a topic in "New adopters" with a photo that carries
// GPS tags. The demo member watches the group page in another browser,
// where the topic appears without a reload, and opens it to find the
// photo, whose served bytes hold no Exif or GPS data. A reply with a
// photo then appears there without a reload. The demo member reports the
// reply, the moderator hides it with a reason, and its author sees that
// reason and the photo while the demo member sees only that it was
// hidden, and can no longer load its photo. A reply written as HTML shows
// as text and runs nothing, and the hidden profile detail never reaches
// the demo member's browser in any response. The moderator then warns the
// new member, who finds the warning among their notices.
// Other tests cover a request to join a closed group, which a moderator
// approves, and a worker who applies from the community page and is turned
// down with a reason, and the membership list upload: a list with a
// repeated number is rejected with its line, and a good list is stored.
// Another covers search, appeals and new groups: a new member finds the
// demo member's topic by a word in it, a moderator hides its post, the demo
// member appeals, and the moderator overturns the decision, which shows
// the post again. A moderator then creates a group from the community page.
// The last covers safeguarding concerns: a moderator passes a post to the
// council without telling its author, who finds no notice of it, while
// the council's manager reads it. Passed to the agency with the author
// told, it shows among the author's notices.
// The paging test answers the group's and the topic's listings from the
// server's real answers padded with made-up topics and posts, because the
// posting limit makes 200 real topics too slow to write: the buttons load
// the next page, append it once, and go when the last page is short or
// adds nothing.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import { promisify } from 'node:util';

import {
  e2eTest,
  eventually,
  expectNoViolations,
  heading,
  openPage,
  openSignedIn,
  signIn,
  text,
  uniqueBody,
  useServerAndBrowser,
} from './harness.mjs';

const run = promisify(execFile);

/** How long the server may take to write the application email into its outbox. */
const EMAIL_TIMEOUT_MS = 30_000;
/** How long the server may take to process an image, with the ffmpeg tool on one worker. */
const PROCESSING_TIMEOUT_MS = 90_000;
const GROUP = 'New adopters';
const PARTNER = 'Adoption Support Network';
/** Organisations that place children, which a moderator may pass a post to. */
const COUNCIL = 'Northshire Council';
const AGENCY = 'Harbour Adoption Agency';

/** The start of a JPEG's Exif block (APP1), which holds camera details and GPS tags. */
const EXIF_HEADER = Buffer.from('Exif\0\0', 'binary');

/**
 * Writes a 1200 × 900 JPEG photo named `name` into `folder`, with GPS tags
 * as a phone camera stores them, and returns its path.
 */
async function makePhoto(folder, name) {
  const photo = path.join(folder, name);
  await run('ffmpeg', [
    '-nostdin', '-v', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=1200x900', '-frames:v', '1', photo,
  ]);
  await run('exiftool', [
    '-q', '-overwrite_original',
    '-GPSLatitude=51.4816', '-GPSLatitudeRef=N', '-GPSLongitude=3.1791', '-GPSLongitudeRef=W',
    photo,
  ]);
  return photo;
}

/** Returns the GPS tags that exiftool reads in the image file `file`, by name. */
async function gpsTags(file) {
  const { stdout } = await run('exiftool', ['-j', '-n', '-GPS:all', file]);
  const [tags] = JSON.parse(stdout);
  return Object.keys(tags).filter((name) => name.startsWith('GPS'));
}

/** Writes `bytes` into `folder` and returns the GPS tags that exiftool reads in them. */
async function gpsTagsOfBytes(folder, name, bytes) {
  const file = path.join(folder, name);
  await writeFile(file, bytes);
  return gpsTags(file);
}

/** Waits until `image` has loaded a picture, and returns its natural width. */
async function loadedWidth(image, reader) {
  await image.waitFor({ timeout: PROCESSING_TIMEOUT_MS });
  return eventually(async () => {
    const width = await image.evaluate((element) => element.complete && element.naturalWidth);
    assert.ok(width > 0, `image width for ${reader}: ${width}`);
    return width;
  });
}

/** Fetches `href` with the page's session and returns the response. */
async function fetchFromPage(page, href) {
  return page.request.get(new URL(href, page.url()).href);
}

/**
 * In the form `scope`, adds the photo at `file` as an image, waits until
 * it is processed, and gives it `description`.
 */
async function addImage(scope, file, description) {
  await scope.getByLabel(text('community.image.file_label'), { exact: true }).setInputFiles(file);
  await scope
    .getByText(text('community.image.ready'), { exact: true })
    .waitFor({ timeout: PROCESSING_TIMEOUT_MS });
  await scope
    .getByLabel(text('community.image.description_label', { name: path.basename(file) }), {
      exact: true,
    })
    .fill(description);
}

/** Returns a new applicant whose address and display name no earlier run used. */
function newApplicant() {
  const suffix = Math.random().toString(36).slice(2, 8);
  return {
    email: `applicant.${suffix}@community.example`,
    display_name: `Quiet Lantern ${suffix}`,
    password: 'willow harbour kettle lantern',
    membership_number: `ASN-E2E-${suffix}`,
  };
}

/** Waits for the application email to `address` and returns the link it carries. */
async function applicationLink(env, address) {
  return eventually(async () => {
    const email = await env.server.newestEmailTo(address);
    assert.ok(email, `no email to ${address} in the outbox yet`);
    // The token must end at a line break, so a file still being written never matches.
    const match = email.body.match(/(\S+\/community\/apply#[A-Za-z0-9_-]+)\r?\n/);
    assert.ok(match, `no application link in the email:\n${email.body}`);
    return match[1];
  }, EMAIL_TIMEOUT_MS);
}

function postsWithBody(page, body) {
  return page.locator('.community-post').filter({ hasText: body });
}

function navLink(page, key) {
  return page
    .getByRole('navigation', { name: text('community.nav.label') })
    .getByRole('link', { name: text(key), exact: true });
}

/** Returns the accessible name of a button that adds `context` to the visible `labelKey`. */
function contextName(labelKey, context) {
  return `${text(labelKey)} ${context}`;
}

/**
 * Records the body of every response `page` receives, so a test can check
 * what reached the browser. `bodies()` waits for the bodies still being read.
 */
function recordResponses(page) {
  const reads = [];
  page.on('response', (response) => {
    reads.push(
      response.text().then(
        (body) => ({ url: response.url(), body }),
        // Redirects and aborted requests have no body to read.
        () => ({ url: response.url(), body: '' }),
      ),
    );
  });
  return { bodies: () => Promise.all(reads) };
}

/** From the sign-in page, requests an application link for `applicant` and opens it. */
async function applyByEmail(env, record, applicant) {
  const { page } = record;
  await page.goto(`${env.server.address}/#/sign-in`);
  await heading(page, 'signin.title').waitFor();
  await page.getByRole('link', { name: text('signin.join_link'), exact: true }).click();
  await heading(page, 'community.join.title').waitFor();
  await expectNoViolations(page, 'join the community');
  await page
    .getByLabel(text('community.join.email_label'), { exact: true })
    .fill(applicant.email);
  await page.getByRole('button', { name: text('community.join.submit'), exact: true }).click();
  await heading(page, 'community.join.sent_title').waitFor();
  await page
    .getByText(text('community.join.sent_body', { email: applicant.email }), { exact: true })
    .waitFor();

  const link = await applicationLink(env, applicant.email);
  assert.ok(link.startsWith(`${env.server.address}/community/apply#`), `link ${link}`);
  await page.goto(link);
  await heading(page, 'community.apply.title').waitFor();
  const shownUrl = new URL(page.url());
  assert.equal(shownUrl.pathname, '/community/apply', 'path after opening the link');
  assert.equal(shownUrl.hash, '', 'token left in the address bar');
  await expectNoViolations(page, 'application form');
  return link;
}

/** Fills the application form and submits it. */
async function submitApplication(page, applicant) {
  await page
    .getByLabel(text('community.apply.display_name_label'), { exact: true })
    .fill(applicant.display_name);
  await page
    .getByLabel(text('community.apply.partner_label'), { exact: true })
    .selectOption({ label: PARTNER });
  await page
    .getByLabel(text('community.apply.number_label'), { exact: true })
    .fill(applicant.membership_number);
  const password = page.getByLabel(text('invitation.password_label'), { exact: true });
  await password.fill(applicant.password);
  await page.getByLabel(text('invitation.repeat_label'), { exact: true }).fill(applicant.password);
  await page.getByRole('button', { name: text('community.apply.submit'), exact: true }).click();
}

/**
 * Fills in the profile with a visible picture and the interests hidden
 * from other members, and saves it.
 */
async function fillProfile(page, profile) {
  await navLink(page, 'community.nav.profile').click();
  await heading(page, 'community.profile.title').waitFor();
  const form = page.getByRole('form', { name: text('community.profile.form_heading') });
  const group = (key) => form.getByRole('group', { name: text(key), exact: true });
  const visible = text('community.profile.visible');

  const picture = group('community.profile.field.picture');
  await picture.getByText(text('community.profile.picture_none'), { exact: true }).waitFor();
  await picture
    .getByLabel(text('community.profile.picture_file'), { exact: true })
    .setInputFiles(profile.picture);
  await picture
    .getByText(text('community.profile.picture_ready'), { exact: true })
    .waitFor({ timeout: PROCESSING_TIMEOUT_MS });
  await loadedWidth(
    picture.getByRole('img', { name: text('community.profile.picture_alt'), exact: true }),
    'its owner',
  );
  await picture.getByLabel(visible, { exact: true }).check();

  const makeup = group('community.profile.field.family_makeup');
  await makeup.getByRole('textbox').fill(profile.family_makeup);
  await makeup.getByLabel(visible, { exact: true }).check();
  const legal = group('community.profile.field.legal_status');
  await legal
    .getByRole('combobox')
    .selectOption({ label: text('community.legal_status.adoption_order') });
  await legal.getByLabel(visible, { exact: true }).check();
  const interests = group('community.profile.field.interests');
  await interests.getByRole('textbox').fill(profile.interests);
  await interests.getByLabel(visible, { exact: true }).uncheck();

  await form.getByRole('button', { name: text('community.profile.save'), exact: true }).click();
  await page.getByText(text('community.profile.saved'), { exact: true }).waitFor();
  await expectNoViolations(page, 'community profile');
}

/** On the community page, accepts the rules. */
async function acceptRules(page) {
  await navLink(page, 'community.nav.groups').click();
  await heading(page, 'community.title').waitFor();
  await page.getByRole('button', { name: text('community.rules.accept'), exact: true }).click();
  await page.getByText(text('community.rules.accepted'), { exact: true }).waitFor();
}

/** From the community page, opens the group `name`. */
async function openGroup(page, name) {
  await page.getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor();
  await page.getByRole('heading', { level: 2, name: text('community.group.topics') }).waitFor();
}

/** Replies with `body` and, when `image` (`{ file, description }`) is given, a photo. */
async function reply(page, body, image = null) {
  await page.getByLabel(text('community.reply.label'), { exact: true }).fill(body);
  if (image) {
    const form = page.getByRole('form', { name: text('community.reply.heading'), exact: true });
    await addImage(form, image.file, image.description);
  }
  await page.getByRole('button', { name: text('community.reply.submit'), exact: true }).click();
  await page.getByText(text('community.reply.sent'), { exact: true }).waitFor();
}

/** On a group page, starts a topic and waits for its page. */
async function startTopicFromGroup(page, title, body) {
  await page.getByLabel(text('community.topic.title_label'), { exact: true }).fill(title);
  await page.getByLabel(text('community.topic.body_label'), { exact: true }).fill(body);
  await page.getByRole('button', { name: text('community.topic.start'), exact: true }).click();
  await page.getByRole('heading', { level: 1, name: title, exact: true }).waitFor();
}

/**
 * Has a new applicant apply by email and the moderator on `moderatorPage`
 * verify them, and returns the applicant's page, showing the community
 * page of an active member, with `applicant` holding their details.
 */
async function newMember(env, moderatorPage) {
  const applicant = newApplicant();
  const record = await openPage(env, 'new member');
  await applyByEmail(env, record, applicant);
  await submitApplication(record.page, applicant);
  await record.page
    .getByRole('heading', { level: 2, name: text('community.applied.heading') })
    .waitFor();

  await navLink(moderatorPage, 'community.nav.applications').click();
  await heading(moderatorPage, 'community.applications.title').waitFor();
  const context = text('community.applications.context', { name: applicant.display_name });
  await moderatorPage
    .locator('.worker-card')
    .filter({ hasText: applicant.email })
    .getByRole('button', { name: contextName('community.applications.verify', context) })
    .click();
  await moderatorPage
    .getByText(text('community.applications.verified', { name: applicant.display_name }), {
      exact: true,
    })
    .waitFor();

  await record.page.reload();
  await record.page
    .getByRole('heading', { level: 2, name: text('community.rules.heading') })
    .waitFor();
  return { ...record, applicant };
}

/** From the community page, searches for `words` and waits for the search page. */
async function search(page, words) {
  await navLink(page, 'community.nav.groups').click();
  await heading(page, 'community.title').waitFor();
  await page
    .getByRole('search', { name: text('community.search.form_label') })
    .getByLabel(text('community.search.label'), { exact: true })
    .fill(words);
  await page.getByRole('button', { name: text('community.search.submit'), exact: true }).click();
  await heading(page, 'community.search.title').waitFor();
}

/** Returns the search hits whose topic is `title`. */
function hitsFor(page, title) {
  return page.locator('.community-hit').filter({
    has: page.getByRole('link', { name: title, exact: true }),
  });
}

/** Maximum topics in one page of a group's listing, and posts in one page of a topic. */
const TOPICS_PAGE_SIZE = 200;
const POSTS_PAGE_SIZE = 1_000;
/** Made-up topics and posts after the first page, so that the second page is short. */
const OLDER_ITEMS = 3;

/**
 * Routes the GET requests of `page` whose address matches `matches` to
 * `respond(route, url)`. Other methods go to the server. A failing
 * `respond` is logged and aborts its request, because a route handler's
 * exception reaches no test.
 */
async function routeGets(page, matches, respond) {
  await page.route(matches, async (route, request) => {
    if (request.method() !== 'GET') return route.fallback();
    try {
      await respond(route, new URL(request.url()));
    } catch (error) {
      console.error(`mocking the response to ${request.url()} failed:`, error);
      await route.abort('failed');
    }
  });
}

/** Returns a made-up UUID whose last group is `n`, for a padding topic or post. */
function paddingId(n) {
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

/**
 * Fulfils the GET requests of `page` for a group's topics from the
 * server's real first page followed by made-up older topics, enough to
 * fill the first page and leave `olderItems` for the second. A later page
 * starts with the last topic of the page before it, as it does when one
 * topic moves to the front between two loads. Returns `offsets`, the
 * `offset` query of each request in order, and `listing()`, every topic
 * of the last response's listing in order.
 */
async function routeTopicPages(page, olderItems = OLDER_ITEMS) {
  const offsets = [];
  let padding = null;
  let listing = [];
  const isTopics = (url) => /^\/api\/v1\/community\/groups\/[^/]+\/topics$/.test(url.pathname);
  await routeGets(page, isTopics, async (route, url) => {
    const offset = Number(url.searchParams.get('offset') ?? '0');
    offsets.push(url.searchParams.get('offset'));
    url.searchParams.set('offset', '0');
    const response = await route.fetch({ url: url.href });
    const real = await response.json();
    assert.ok(real.length > 0, 'no real topic in the group to copy');
    assert.ok(real.length < TOPICS_PAGE_SIZE, `real topics in the group: ${real.length}`);
    // The padding is made once, so a live reload that finds a new real
    // topic pushes the last padding topic into the second page.
    const paddingCount = TOPICS_PAGE_SIZE - real.length + olderItems;
    padding ??= Array.from({ length: paddingCount }, (_, i) => ({
      ...real[0],
      id: paddingId(i + 1),
      title: `Earlier topic ${i + 1}`,
      reply_count: 0,
      created_at: '2020-01-01T00:00:00Z',
      last_post_at: '2020-01-01T00:00:00Z',
    }));
    listing = [...real, ...padding];
    const start = offset === 0 ? 0 : offset - 1;
    const json = listing.slice(start, offset + TOPICS_PAGE_SIZE);
    await route.fulfill({ response, json });
  });
  return { offsets, listing: () => listing };
}

/**
 * Fulfils the GET requests of `page` for a topic from the server's real
 * response, with made-up replies after the opening post. They fill the
 * first page and leave `olderItems` for the second, and the topic's real
 * replies come last, where new replies go. `more_posts` is set when a post
 * follows the page, or with `moreOnFullPage` on every full page. Returns
 * `offsets` and `listing()` as routeTopicPages does, for posts.
 */
async function routePostPages(page, { olderItems = OLDER_ITEMS, moreOnFullPage = false } = {}) {
  const offsets = [];
  let padding = null;
  let listing = [];
  const isTopic = (url) => /^\/api\/v1\/community\/topics\/[^/]+$/.test(url.pathname);
  await routeGets(page, isTopic, async (route, url) => {
    const offset = Number(url.searchParams.get('offset') ?? '0');
    offsets.push(url.searchParams.get('offset'));
    url.searchParams.set('offset', '0');
    const response = await route.fetch({ url: url.href });
    const real = await response.json();
    assert.equal(real.more_posts, false, 'real topic longer than one page');
    const [opening, ...replies] = real.posts;
    // The padding is made once, so a live reply goes after it.
    const paddingCount = POSTS_PAGE_SIZE - real.posts.length + olderItems;
    padding ??= Array.from({ length: paddingCount }, (_, i) => ({
      ...opening,
      id: paddingId(i + 1),
      body: `Earlier reply ${i + 1}`,
      images: [],
      mine: false,
    }));
    listing = [opening, ...padding, ...replies];
    const posts = listing.slice(offset, offset + POSTS_PAGE_SIZE);
    const morePosts = moreOnFullPage
      ? posts.length >= POSTS_PAGE_SIZE
      : listing.length > offset + POSTS_PAGE_SIZE;
    const json = { ...real, posts, more_posts: morePosts };
    await route.fulfill({ response, json });
  });
  return { offsets, listing: () => listing };
}

/** Returns the `data-*` id of each element that `locator` matches, in document order. */
function shownIds(locator, key) {
  return locator.evaluateAll((elements, name) => elements.map((e) => e.dataset[name]), key);
}

/** Returns the `data-*` id `key` of the list item that contains the focused element. */
function focusedItemId(page, key) {
  return page.evaluate((name) => document.activeElement?.closest('li')?.dataset[name], key);
}

/** Returns the text of the focused element when it is a status region, or null. */
function focusedStatus(page) {
  return page.evaluate(() => {
    const active = document.activeElement;
    return active?.getAttribute('role') === 'status' ? active.textContent : null;
  });
}

/** Returns a word of letters only that no earlier run used, for finding one post by search. */
function distinctiveWord() {
  const letters = Array.from({ length: 8 }, () =>
    String.fromCharCode(97 + Math.floor(Math.random() * 26)),
  );
  return `quokkaberry${letters.join('')}`;
}

describe('community support network', () => {
  const env = useServerAndBrowser();
  let folder;
  let photos;

  before(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'kinlink-e2e-community-'));
    photos = {
      garden: await makePhoto(folder, 'garden.jpg'),
      beach: await makePhoto(folder, 'beach.jpg'),
      portrait: await makePhoto(folder, 'portrait.jpg'),
    };
  });
  after(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  e2eTest(env, 'applicant joins, posts and is moderated', async () => {
    const applicantData = newApplicant();
    const profile = {
      family_makeup: 'Two mums and a daughter aged 4',
      interests: uniqueBody('Hidden interest: sensory play and sleep'),
      picture: photos.portrait,
    };
    const topicTitle = uniqueBody('First weeks at home');
    const openingBody = uniqueBody('How did you manage the first weeks?');
    const imageDescription = uniqueBody('A drawing of our garden');
    const replyBody = uniqueBody('Our nights are easier now');
    const replyImageDescription = uniqueBody('The beach at dawn');
    const hideReason = uniqueBody('Please keep nights out of the public groups');
    const markup = '<img src=x onerror="window.__pwned=1">';

    // The photos carry an Exif block with GPS tags, which processing must strip.
    const source = await readFile(photos.garden);
    assert.ok(source.includes(EXIF_HEADER), 'Exif block in the photo before upload');
    assert.deepEqual(
      (await gpsTags(photos.garden)).sort(),
      ['GPSLatitude', 'GPSLatitudeRef', 'GPSLongitude', 'GPSLongitudeRef', 'GPSVersionID'],
      'GPS tags in the photo before upload',
    );

    // The applicant requests a link and applies with it.
    const applicant = await openPage(env, 'applicant');
    const link = await applyByEmail(env, applicant, applicantData);
    await submitApplication(applicant.page, applicantData);
    await heading(applicant.page, 'community.title').waitFor();
    await applicant.page
      .getByRole('heading', { level: 2, name: text('community.applied.heading') })
      .waitFor();
    await expectNoViolations(applicant.page, 'application waiting');

    // The same link, sent again, gets a page that explains it was used.
    const again = await openPage(env, 'used application link');
    await again.page.goto(link);
    await heading(again.page, 'community.apply.title').waitFor();
    await submitApplication(again.page, { ...newApplicant(), email: applicantData.email });
    await heading(again.page, 'community.apply.used_title').waitFor();
    assert.equal(
      await again.page.getByLabel(text('invitation.password_label')).count(),
      0,
      'password field on the used link page',
    );

    // The moderator finds the application, which is not on the partner's list, and
    // verifies it by hand.
    const moderator = await openSignedIn(env, 'community_moderator', { landing: 'community' });
    await navLink(moderator.page, 'community.nav.applications').click();
    await heading(moderator.page, 'community.applications.title').waitFor();
    const application = moderator.page
      .locator('.worker-card')
      .filter({ hasText: applicantData.email });
    await application.waitFor();
    await application
      .getByText(text('community.applications.list.no_match'), { exact: true })
      .waitFor();
    await expectNoViolations(moderator.page, 'applications');
    const context = text('community.applications.context', { name: applicantData.display_name });
    await application
      .getByRole('button', { name: contextName('community.applications.verify', context) })
      .click();
    await moderator.page
      .getByText(
        text('community.applications.verified', { name: applicantData.display_name }),
        { exact: true },
      )
      .waitFor();
    // The page shows the outcome before it has loaded the list again.
    await eventually(async () =>
      assert.equal(await application.count(), 0, 'verified application still listed'),
    );

    // Now active, the applicant fills in the profile and accepts the rules.
    await applicant.page.reload();
    await heading(applicant.page, 'community.title').waitFor();
    await applicant.page
      .getByRole('heading', { level: 2, name: text('community.rules.heading') })
      .waitFor();
    await expectNoViolations(applicant.page, 'community page before the rules');
    await fillProfile(applicant.page, profile);
    await acceptRules(applicant.page);
    await expectNoViolations(applicant.page, 'community page');

    // The demo member watches the group, recording every response the page receives.
    const member = await openPage(env, 'community member');
    const responses = recordResponses(member.page);
    await signIn(env, member, env.server.users.community_member, { landing: 'community' });
    await openGroup(member.page, GROUP);
    await expectNoViolations(member.page, 'group page');
    const memberLoads = member.loads;

    // The applicant starts a topic with a photo, which shows once it is processed.
    await openGroup(applicant.page, GROUP);
    const topicForm = applicant.page.getByRole('form', {
      name: text('community.topic.new_heading'),
      exact: true,
    });
    await topicForm
      .getByLabel(text('community.topic.title_label'), { exact: true })
      .fill(topicTitle);
    await topicForm
      .getByLabel(text('community.topic.body_label'), { exact: true })
      .fill(openingBody);
    await addImage(topicForm, photos.garden, imageDescription);
    await loadedWidth(
      topicForm.getByRole('img', {
        name: text('community.image.preview_alt', { name: 'garden.jpg' }),
        exact: true,
      }),
      'its author before posting',
    );
    await expectNoViolations(applicant.page, 'new topic with an image');
    await topicForm
      .getByRole('button', { name: text('community.topic.start'), exact: true })
      .click();
    await applicant.page
      .getByRole('heading', { level: 1, name: topicTitle, exact: true })
      .waitFor();
    await postsWithBody(applicant.page, openingBody).waitFor();
    await loadedWidth(
      postsWithBody(applicant.page, openingBody).getByRole('img', {
        name: imageDescription,
        exact: true,
      }),
      'its author',
    );

    // The topic appears on the member's group page without a reload, and
    // its page shows the photo, described, with a link to the whole picture.
    const topicLink = member.page.getByRole('link', { name: topicTitle, exact: true });
    await topicLink.waitFor();
    assert.equal(member.loads, memberLoads, 'the group page reloaded');
    await topicLink.click();
    await member.page.getByRole('heading', { level: 1, name: topicTitle, exact: true }).waitFor();
    const openingPost = postsWithBody(member.page, openingBody);
    await openingPost.waitFor();
    const photo = openingPost.getByRole('img', { name: imageDescription, exact: true });
    const thumbnailWidth = await loadedWidth(photo, 'the member');
    assert.ok(thumbnailWidth < 1200, `thumbnail width: ${thumbnailWidth}`);
    const photoLink = openingPost.locator('.community-post__image-link');
    assert.equal(await photoLink.getAttribute('target'), '_blank', 'photo link target');
    const wholeHref = await photoLink.getAttribute('href');
    assert.match(wholeHref, /\/community\/images\/[0-9a-f-]+\/main$/, 'photo link');
    const thumbnailHref = await photo.getAttribute('src');
    assert.match(thumbnailHref, /\/community\/images\/[0-9a-f-]+\/thumbnail$/, 'photo source');

    // What the server serves to the member holds no Exif block and no GPS tags.
    for (const [role, href] of [
      ['main', wholeHref],
      ['thumbnail', thumbnailHref],
    ]) {
      const response = await fetchFromPage(member.page, href);
      assert.equal(response.status(), 200, `${role} status`);
      assert.match(response.headers()['content-type'], /^image\//, `${role} type`);
      const served = await response.body();
      assert.ok(served.length > 0, `${role} is empty`);
      assert.equal(served.includes(EXIF_HEADER), false, `Exif block in the served ${role}`);
      assert.deepEqual(
        await gpsTagsOfBytes(folder, `served-${role}`, served),
        [],
        `GPS tags in the served ${role}`,
      );
    }

    // The applicant replies with a photo, and the reply appears with it on
    // the member's topic page.
    await reply(applicant.page, replyBody, {
      file: photos.beach,
      description: replyImageDescription,
    });
    const replyOnMemberPage = postsWithBody(member.page, replyBody);
    await replyOnMemberPage.waitFor();
    const replyPhoto = replyOnMemberPage.getByRole('img', {
      name: replyImageDescription,
      exact: true,
    });
    await loadedWidth(replyPhoto, 'the member');
    const replyPhotoHref = await replyPhoto.getAttribute('src');
    assert.equal(member.loads, memberLoads, 'the topic page reloaded');
    await expectNoViolations(member.page, 'topic page');

    // The member reports the reply.
    const reportName = contextName(
      'community.report.open',
      text('community.post.context', { name: applicantData.display_name }),
    );
    await replyOnMemberPage.getByRole('button', { name: reportName }).click();
    const reportReason = 'This names a school';
    await replyOnMemberPage
      .getByLabel(text('community.report.reason_label'), { exact: true })
      .fill(reportReason);
    await expectNoViolations(member.page, 'topic page with a report form');
    await replyOnMemberPage
      .getByRole('button', { name: text('community.report.submit'), exact: true })
      .click();
    await replyOnMemberPage.getByText(text('community.report.sent'), { exact: true }).waitFor();

    // The moderator finds the report and hides the reply with a reason.
    await navLink(moderator.page, 'community.nav.reports').click();
    await heading(moderator.page, 'community.reports.title').waitFor();
    const report = moderator.page.locator('.community-report').filter({ hasText: replyBody });
    await report.waitFor();
    await report.getByText(reportReason, { exact: true }).waitFor();
    await expectNoViolations(moderator.page, 'reports');
    await report.getByLabel(text('community.moderate.action.hide'), { exact: true }).check();
    await report
      .getByLabel(text('community.moderate.reason_label'), { exact: true })
      .fill(hideReason);
    await report
      .getByRole('button', { name: text('community.moderate.submit'), exact: true })
      .click();
    await moderator.page
      .getByText(text('community.moderate.done.hide'), { exact: true })
      .waitFor();

    // Its author is shown the reason next to the text and photo, and the
    // member only that it was hidden, without the photo, which the server
    // no longer serves to them.
    const hiddenForAuthor = text('community.post.hidden_reason', { reason: hideReason });
    await applicant.page.getByText(hiddenForAuthor, { exact: true }).waitFor();
    await postsWithBody(applicant.page, replyBody).waitFor();
    await loadedWidth(
      postsWithBody(applicant.page, replyBody).getByRole('img', {
        name: replyImageDescription,
        exact: true,
      }),
      'the author of a hidden post',
    );
    await member.page.getByText(text('community.post.hidden'), { exact: true }).waitFor();
    await eventually(async () => {
      assert.equal(await postsWithBody(member.page, replyBody).count(), 0, 'hidden reply text');
    });
    assert.equal(
      await member.page.getByRole('img', { name: replyImageDescription }).count(),
      0,
      'photo of the hidden reply shown to the member',
    );
    assert.equal(
      (await fetchFromPage(member.page, replyPhotoHref)).status(),
      404,
      'photo of the hidden reply served to the member',
    );
    assert.equal(
      await member.page.getByText(hideReason).count(),
      0,
      'the moderator reason shown to the member',
    );
    await expectNoViolations(applicant.page, 'topic page with a hidden post');

    // The author finds the notice about the hidden post.
    await navLink(applicant.page, 'community.nav.notices').click();
    await heading(applicant.page, 'community.notices.title').waitFor();
    const notice = applicant.page
      .locator('.community-notice')
      .filter({ hasText: text('community.notice.kind.post_hidden') });
    await notice.getByText(hideReason, { exact: true }).waitFor();
    await expectNoViolations(applicant.page, 'notices');
    await applicant.page.goBack();
    await applicant.page
      .getByRole('heading', { level: 1, name: topicTitle, exact: true })
      .waitFor();

    // A reply written as HTML shows as text on both pages and runs nothing.
    await reply(applicant.page, markup);
    const markupOnMemberPage = member.page
      .locator('.community-post__body')
      .filter({ hasText: markup });
    await markupOnMemberPage.waitFor();
    assert.equal(await markupOnMemberPage.innerText(), markup, 'the reply as the member sees it');
    const markupPost = member.page.locator('.community-post').filter({ has: markupOnMemberPage });
    assert.equal(await markupPost.locator('img').count(), 0, 'an image made from the reply');
    assert.equal(
      await member.page.locator('.community-posts img').count(),
      1,
      'images in the topic other than the opening photo',
    );
    for (const [label, page] of [
      ['member', member.page],
      ['applicant', applicant.page],
    ]) {
      assert.equal(await page.evaluate(() => window.__pwned), undefined, `script ran (${label})`);
    }

    // The member opens the author's page, which shows the picture and the
    // visible details only.
    await member.page
      .locator('.community-post')
      .filter({ hasText: openingBody })
      .getByRole('link', { name: applicantData.display_name, exact: true })
      .click();
    await member.page
      .getByRole('heading', { level: 1, name: applicantData.display_name, exact: true })
      .waitFor();
    await loadedWidth(
      member.page.getByRole('img', {
        name: text('community.member.picture_alt', { name: applicantData.display_name }),
        exact: true,
      }),
      'the member',
    );
    await member.page.getByText(profile.family_makeup, { exact: true }).waitFor();
    await member.page
      .getByText(text('community.legal_status.adoption_order'), { exact: true })
      .waitFor();
    assert.equal(
      await member.page.getByText(text('community.profile.field.interests')).count(),
      0,
      'hidden interests labelled on the member page',
    );
    await expectNoViolations(member.page, 'member page');

    // The moderator warns the applicant from their member page.
    const warning = uniqueBody('Please keep children unnamed');
    await moderator.page.goto(member.page.url());
    await moderator.page
      .getByRole('heading', { level: 1, name: applicantData.display_name, exact: true })
      .waitFor();
    await moderator.page
      .getByLabel(text('community.member.action.warn'), { exact: true })
      .check();
    await moderator.page
      .getByLabel(text('community.moderate.reason_label'), { exact: true })
      .fill(warning);
    await expectNoViolations(moderator.page, 'member page for a moderator');
    await moderator.page
      .getByRole('button', { name: text('community.moderate.submit'), exact: true })
      .click();
    await moderator.page
      .getByText(text('community.member.done.warn', { name: applicantData.display_name }), {
        exact: true,
      })
      .waitFor();
    await navLink(applicant.page, 'community.nav.notices').click();
    await heading(applicant.page, 'community.notices.title').waitFor();
    await applicant.page
      .locator('.community-notice')
      .filter({ hasText: text('community.notice.kind.warning') })
      .getByText(warning, { exact: true })
      .waitFor();

    // No response to the member's browser contains the hidden detail.
    const received = await responses.bodies();
    assert.ok(received.length > 0, 'no responses recorded');
    const leaks = received.filter(({ body }) => body.includes(profile.interests));
    assert.deepEqual(
      leaks.map(({ url }) => url),
      [],
      'responses to the member that hold the hidden interests',
    );
  });

  e2eTest(env, 'request to join a closed group', async () => {
    const closedGroup = "Foster carers' circle";
    const member = await openSignedIn(env, 'community_member', { landing: 'community' });
    const card = member.page.locator('.community-group').filter({ hasText: closedGroup });
    await card.waitFor();
    assert.equal(
      await card.getByRole('link', { name: closedGroup }).count(),
      0,
      'link to a closed group before joining',
    );
    await card
      .getByRole('button', { name: contextName('community.group.request', closedGroup) })
      .click();
    await member.page
      .getByText(text('community.group.requested_done', { name: closedGroup }), { exact: true })
      .waitFor();
    await card.getByText(text('community.group.requested'), { exact: true }).waitFor();

    const moderator = await openSignedIn(env, 'community_moderator', { landing: 'community' });
    await navLink(moderator.page, 'community.nav.requests').click();
    await heading(moderator.page, 'community.requests.title').waitFor();
    const memberName = env.server.users.community_member.display_name;
    const requestContext = text('community.requests.context', {
      name: memberName,
      group: closedGroup,
    });
    await expectNoViolations(moderator.page, 'requests to join');
    await moderator.page
      .getByRole('button', { name: contextName('community.requests.approve', requestContext) })
      .click();
    await moderator.page
      .getByText(
        text('community.requests.done.approve', { name: memberName, group: closedGroup }),
        { exact: true },
      )
      .waitFor();

    await member.page.reload();
    await openGroup(member.page, closedGroup);
  });

  e2eTest(env, 'worker applies and is turned down', async () => {
    const worker = await openSignedIn(env, 'la_practitioner');
    const { page } = worker;
    await page.getByRole('link', { name: text('nav.community'), exact: true }).click();
    await heading(page, 'community.title').waitFor();
    await page.getByRole('heading', { level: 2, name: text('community.apply.heading') }).waitFor();
    const partner = page.getByLabel(text('community.apply.partner_label'), { exact: true });
    assert.deepEqual(
      await partner.locator('option').allInnerTexts(),
      [text('community.apply.partner_none'), PARTNER],
      'partners offered',
    );
    assert.equal(
      await page.getByRole('navigation', { name: text('community.nav.label') }).count(),
      0,
      'community navigation before joining',
    );
    await expectNoViolations(page, 'community page without a membership');

    // A membership number needs the partner that gave it.
    const displayName = `Steady Oak ${Math.random().toString(36).slice(2, 8)}`;
    await page
      .getByLabel(text('community.apply.display_name_label'), { exact: true })
      .fill(displayName);
    const number = page.getByLabel(text('community.apply.number_label'), { exact: true });
    await number.fill('ASN-1');
    const submit = page.getByRole('button', { name: text('community.apply.submit'), exact: true });
    await submit.click();
    await page.getByText(text('community.apply.partner_for_number'), { exact: true }).waitFor();
    assert.equal(await partner.getAttribute('aria-invalid'), 'true', 'partner marked invalid');
    await number.fill('');
    await submit.click();
    await page
      .getByRole('heading', { level: 2, name: text('community.applied.heading') })
      .waitFor();

    // A moderator turns the application down with a reason.
    const reason = uniqueBody('We could not confirm that you foster or adopt');
    const moderator = await openSignedIn(env, 'community_moderator', { landing: 'community' });
    await navLink(moderator.page, 'community.nav.applications').click();
    await heading(moderator.page, 'community.applications.title').waitFor();
    const application = moderator.page.locator('.worker-card').filter({ hasText: displayName });
    const context = text('community.applications.context', { name: displayName });
    await application
      .getByRole('button', { name: contextName('community.applications.reject', context) })
      .click();
    await application
      .getByLabel(text('community.applications.reason_label'), { exact: true })
      .fill(reason);
    await expectNoViolations(moderator.page, 'applications with a rejection form');
    await application
      .getByRole('button', { name: text('community.applications.reject_submit'), exact: true })
      .click();
    await moderator.page
      .getByText(text('community.applications.rejected', { name: displayName }), { exact: true })
      .waitFor();

    // The worker reads the reason and may apply again.
    await page.reload();
    await page
      .getByRole('heading', { level: 2, name: text('community.rejected.heading') })
      .waitFor();
    await page.getByText(reason, { exact: true }).waitFor();
    await page
      .getByRole('heading', { level: 2, name: text('community.apply.again_heading') })
      .waitFor();
    await expectNoViolations(page, 'community page after a rejection');
  });

  e2eTest(env, 'moderator uploads a membership list', async () => {
    const moderator = await openSignedIn(env, 'community_moderator', { landing: 'community' });
    const { page } = moderator;
    await navLink(page, 'community.nav.membership_list').click();
    await heading(page, 'community.list.title').waitFor();
    await expectNoViolations(page, 'membership list');
    const fileInput = page.getByLabel(text('community.list.file_label'), { exact: true });
    const upload = page.getByRole('button', { name: text('community.list.submit'), exact: true });

    // A repeated number is rejected with the line it is on, and nothing changes.
    const repeated = 'membership_number,email\nASN-7,a@example.org\nASN-7,b@example.org\n';
    await fileInput.setInputFiles({
      name: 'members.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(repeated),
    });
    await upload.click();
    const rejected = text('community.list.invalid_line', { line: 3 });
    await page.getByText(rejected, { exact: true }).waitFor();
    assert.equal(await fileInput.getAttribute('aria-invalid'), 'true', 'file marked invalid');
    await expectNoViolations(page, 'membership list with an error');

    // A good list is stored and counted.
    const good = 'membership_number,email\nASN-7,a@example.org\nASN-8,b@example.org\n';
    await fileInput.setInputFiles({
      name: 'members.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(good),
    });
    await upload.click();
    const stored = `${text('community.list.entries.other', { count: 2 })} ${text(
      'community.list.verified.other',
      { count: 0 },
    )}`;
    await page.getByText(stored, { exact: true }).waitFor();
  });
  e2eTest(env, 'search, appeal and new group', async () => {
    const word = distinctiveWord();
    const topicTitle = uniqueBody('Bedtime at our house');
    const openingBody = `Reading the same story every night helped. We call it ${word} time.`;
    const hideReason = uniqueBody('Please check this post with a moderator first');
    const appealText = uniqueBody('The post names no child and no school');
    const overturnReason = uniqueBody('You are right, the post is fine');
    const memberName = env.server.users.community_member.display_name;

    // The demo member starts a topic with the distinctive word.
    const member = await openSignedIn(env, 'community_member', { landing: 'community' });
    await openGroup(member.page, GROUP);
    await member.page
      .getByLabel(text('community.topic.title_label'), { exact: true })
      .fill(topicTitle);
    await member.page
      .getByLabel(text('community.topic.body_label'), { exact: true })
      .fill(openingBody);
    await member.page
      .getByRole('button', { name: text('community.topic.start'), exact: true })
      .click();
    await member.page.getByRole('heading', { level: 1, name: topicTitle, exact: true }).waitFor();
    await postsWithBody(member.page, openingBody).waitFor();

    // A new member's search of one letter is rejected by the server, with the field marked.
    const moderator = await openSignedIn(env, 'community_moderator', { landing: 'community' });
    const searcher = await newMember(env, moderator.page);
    await expectNoViolations(searcher.page, 'community page with the search box');
    await search(searcher.page, 'a');
    const searchBox = searcher.page.getByLabel(text('community.search.label'), { exact: true });
    await searcher.page
      .getByText(text('community.search.query_invalid', { max: 200 }), { exact: true })
      .waitFor();
    assert.equal(await searchBox.getAttribute('aria-invalid'), 'true', 'search box marked invalid');
    await expectNoViolations(searcher.page, 'search with an error');

    // The new member finds the topic by its word, with its group, author and excerpt.
    await search(searcher.page, word);
    const hit = hitsFor(searcher.page, topicTitle);
    await hit.waitFor();
    await hit.getByText(text('community.search.in_group', { group: GROUP })).waitFor();
    await hit.getByRole('link', { name: memberName, exact: true }).waitFor();
    const excerpt = await hit.locator('.community-hit__excerpt').innerText();
    assert.ok(excerpt.includes(word), `excerpt without the word: ${excerpt}`);
    await searcher.page
      .getByText(text('community.search.found.one', { count: 1 }), { exact: true })
      .waitFor();
    await expectNoViolations(searcher.page, 'search results');
    await hit.getByRole('link', { name: topicTitle, exact: true }).click();
    await searcher.page
      .getByRole('heading', { level: 1, name: topicTitle, exact: true })
      .waitFor();
    await postsWithBody(searcher.page, openingBody).waitFor();

    // The moderator finds it the same way and hides the post with a reason.
    await search(moderator.page, word);
    await hitsFor(moderator.page, topicTitle)
      .getByRole('link', { name: topicTitle, exact: true })
      .click();
    await moderator.page
      .getByRole('heading', { level: 1, name: topicTitle, exact: true })
      .waitFor();
    const post = postsWithBody(moderator.page, openingBody);
    const moderateName = contextName(
      'community.moderate.open',
      text('community.post.context', { name: memberName }),
    );
    await post.getByRole('button', { name: moderateName }).click();
    await post.getByLabel(text('community.moderate.action.hide'), { exact: true }).check();
    await post
      .getByLabel(text('community.moderate.reason_label'), { exact: true })
      .fill(hideReason);
    await post
      .getByRole('button', { name: text('community.moderate.submit'), exact: true })
      .click();
    await moderator.page
      .getByText(text('community.moderate.done.hide'), { exact: true })
      .waitFor();

    // While hidden, the post is not found.
    await search(searcher.page, word);
    await searcher.page.getByText(text('community.search.none'), { exact: true }).waitFor();
    assert.equal(await hitsFor(searcher.page, topicTitle).count(), 0, 'hit for a hidden post');

    // The demo member appeals from the notices page.
    await navLink(member.page, 'community.nav.notices').click();
    await heading(member.page, 'community.notices.title').waitFor();
    const notice = member.page
      .locator('.community-notice[data-kind="post_hidden"]')
      .filter({ hasText: hideReason });
    await notice.waitFor();
    const appealButton = notice.getByRole('button', { name: text('community.appeal.open') });
    await appealButton.click();
    await notice.getByLabel(text('community.appeal.text_label'), { exact: true }).fill(appealText);
    await expectNoViolations(member.page, 'notices with an appeal form');
    await notice
      .getByRole('button', { name: text('community.appeal.submit'), exact: true })
      .click();
    await member.page.getByText(text('community.appeal.done'), { exact: true }).waitFor();
    await notice.getByText(appealText, { exact: true }).waitFor();
    await notice.getByText(text('community.appeal.waiting'), { exact: true }).waitFor();
    assert.equal(await appealButton.count(), 0, 'Appeal button after appealing');
    await expectNoViolations(member.page, 'notices with an appeal');

    // The moderator overturns the decision on the Appeals page.
    await navLink(moderator.page, 'community.nav.appeals').click();
    await heading(moderator.page, 'community.appeals.title').waitFor();
    const appeal = moderator.page
      .locator('.community-appeal-item')
      .filter({ hasText: appealText });
    await appeal.waitFor();
    await appeal.getByText(hideReason, { exact: true }).waitFor();
    await appeal.getByRole('link', { name: memberName, exact: true }).waitFor();
    await expectNoViolations(moderator.page, 'appeals');
    await appeal
      .getByLabel(text('community.appeals.decision.overturn'), { exact: true })
      .check();
    await appeal
      .getByLabel(text('community.moderate.reason_label'), { exact: true })
      .fill(overturnReason);
    await appeal
      .getByRole('button', { name: text('community.appeals.submit'), exact: true })
      .click();
    await moderator.page
      .getByText(text('community.appeals.done.overturn', { name: memberName }), { exact: true })
      .waitFor();
    // The page shows the outcome before it has loaded the list again.
    await eventually(async () =>
      assert.equal(await appeal.count(), 0, 'answered appeal still listed'),
    );

    // The demo member reads the outcome and sees the post shown again.
    await member.page.reload();
    await heading(member.page, 'community.notices.title').waitFor();
    await notice
      .getByText(text('community.appeal.outcome.overturned'), { exact: true })
      .waitFor();
    await notice.getByText(overturnReason, { exact: true }).waitFor();
    await expectNoViolations(member.page, 'notices with an answered appeal');
    await notice.getByRole('link', { name: text('community.notice.topic_link') }).click();
    await member.page.getByRole('heading', { level: 1, name: topicTitle, exact: true }).waitFor();
    await member.page
      .locator('.community-post[data-state="visible"]')
      .filter({ hasText: openingBody })
      .waitFor();
    assert.equal(
      await member.page.locator('.community-post__notice').count(),
      0,
      'moderation notice on the restored post',
    );

    // Visible again, the post is found again.
    await search(searcher.page, word);
    await hitsFor(searcher.page, topicTitle).waitFor();

    // A moderator's new group needs a name no other group has.
    const groupName = uniqueBody('Kinship carers');
    const groupDescription = 'For grandparents, aunts, uncles and friends raising a child.';
    await navLink(moderator.page, 'community.nav.groups').click();
    await heading(moderator.page, 'community.title').waitFor();
    const form = moderator.page.getByRole('form', { name: text('community.new_group.heading') });
    const nameInput = form.getByLabel(text('community.new_group.name_label'), { exact: true });
    await nameInput.fill(GROUP.toUpperCase());
    await form.getByLabel(text('community.new_group.join.open'), { exact: true }).check();
    const create = form.getByRole('button', { name: text('community.new_group.submit') });
    await create.click();
    await form
      .getByText(text('community.new_group.name_invalid', { max: 80 }), { exact: true })
      .waitFor();
    assert.equal(await nameInput.getAttribute('aria-invalid'), 'true', 'name marked invalid');
    await expectNoViolations(moderator.page, 'new group form with an error');

    // With a new name, the group is created and appears in the list.
    await nameInput.fill(groupName);
    await form
      .getByLabel(text('community.new_group.description_label'), { exact: true })
      .fill(groupDescription);
    await create.click();
    await moderator.page
      .getByText(text('community.new_group.created', { name: groupName }), { exact: true })
      .waitFor();
    const card = moderator.page.locator('.community-group').filter({ hasText: groupName });
    await card.getByRole('link', { name: groupName, exact: true }).waitFor();
    await card.getByText(groupDescription, { exact: true }).waitFor();
    await card.getByText(text('community.group.join.open'), { exact: true }).waitFor();
  });

  e2eTest(env, 'moderator passes a post to an organisation', async () => {
    const topicTitle = uniqueBody('Evenings are hard');
    const openingBody = uniqueBody('Some nights I am frightened of what happens at home');
    const councilReason = uniqueBody('The post suggests a child may be at risk at home');
    const notToldBecause = uniqueBody('Telling the member could put the child at more risk');
    const agencyReason = uniqueBody('The family may need support from their agency');
    const member = env.server.users.community_member;

    // The demo member starts a topic.
    const author = await openSignedIn(env, 'community_member', { landing: 'community' });
    await openGroup(author.page, GROUP);
    await author.page
      .getByLabel(text('community.topic.title_label'), { exact: true })
      .fill(topicTitle);
    await author.page
      .getByLabel(text('community.topic.body_label'), { exact: true })
      .fill(openingBody);
    await author.page
      .getByRole('button', { name: text('community.topic.start'), exact: true })
      .click();
    await author.page.getByRole('heading', { level: 1, name: topicTitle, exact: true }).waitFor();
    await postsWithBody(author.page, openingBody).waitFor();
    const topicUrl = author.page.url();

    // The moderator opens the form under the post, which offers the
    // organisations that place children.
    const moderator = await openSignedIn(env, 'community_moderator', { landing: 'community' });
    const { page } = moderator;
    await page.goto(topicUrl);
    await page.getByRole('heading', { level: 1, name: topicTitle, exact: true }).waitFor();
    const post = postsWithBody(page, openingBody);
    const openName = contextName(
      'community.concern.open',
      text('community.post.context', { name: member.display_name }),
    );
    await post.getByRole('button', { name: openName }).click();
    const form = post.getByRole('form', {
      name: text('community.concern.form_label', { name: member.display_name }),
      exact: true,
    });
    const organisation = form.getByLabel(text('community.concern.organisation_label'), {
      exact: true,
    });
    await organisation.locator('option', { hasText: COUNCIL }).waitFor({ state: 'attached' });
    const offered = await organisation.locator('option').allInnerTexts();
    assert.ok(offered.includes(COUNCIL), `council offered: ${offered}`);
    assert.ok(offered.includes(AGENCY), `agency offered: ${offered}`);
    assert.equal(offered.includes(PARTNER), false, `community partner offered: ${offered}`);
    const tell = form.getByLabel(text('community.concern.tell_label'), { exact: true });
    assert.equal(await tell.isChecked(), true, 'Tell the member ticked at first');
    const whyNot = form.getByLabel(text('community.concern.not_told_label'), { exact: true });
    assert.equal(await whyNot.isVisible(), false, 'reason for not telling shown at first');
    const submit = form.getByRole('button', {
      name: text('community.concern.submit'),
      exact: true,
    });

    // Without telling the member, the form needs the reason why not.
    await organisation.selectOption({ label: COUNCIL });
    await form
      .getByLabel(text('community.concern.reason_label'), { exact: true })
      .fill(councilReason);
    await tell.uncheck();
    await whyNot.waitFor();
    await submit.click();
    await form
      .getByText(text('community.concern.not_told_invalid', { max: 500 }), { exact: true })
      .waitFor();
    assert.equal(await whyNot.getAttribute('aria-invalid'), 'true', 'reason field marked invalid');
    assert.ok(
      await whyNot.evaluate((element) => element === document.activeElement),
      'focus moves to the reason for not telling',
    );
    await expectNoViolations(page, 'concern form with an error');
    await whyNot.fill(notToldBecause);
    await submit.click();
    const passedToCouncil = text('community.concern.done.not_told', { organisation: COUNCIL });
    await post.getByText(passedToCouncil, { exact: true }).waitFor();
    assert.equal(await form.isVisible(), false, 'form shown after passing the post on');

    // The same post cannot go to the council twice.
    await post.getByRole('button', { name: openName }).click();
    await organisation.selectOption({ label: COUNCIL });
    await form
      .getByLabel(text('community.concern.reason_label'), { exact: true })
      .fill(councilReason);
    await submit.click();
    await form
      .getByText(text('community.concern.already', { organisation: COUNCIL }), { exact: true })
      .waitFor();
    await form.getByRole('button', { name: text('community.cancel'), exact: true }).click();

    // The council's manager reads the concern, with the account that wrote
    // the post and why the member was not told.
    const manager = await openSignedIn(env, 'la_manager');
    await manager.page
      .getByRole('navigation', { name: text('nav.label'), exact: true })
      .getByRole('link', { name: text('nav.concerns'), exact: true })
      .click();
    await heading(manager.page, 'community.concerns.title').waitFor();
    const concern = manager.page.locator('.community-concern').filter({ hasText: openingBody });
    await concern.waitFor();
    assert.equal(await concern.count(), 1, 'concerns about the post for the council');
    await concern.getByRole('heading', { level: 2, name: topicTitle, exact: true }).waitFor();
    await concern.getByText(councilReason, { exact: true }).waitFor();
    await concern.getByText(notToldBecause, { exact: true }).waitFor();
    await concern.getByRole('link', { name: member.email, exact: true }).waitFor();
    await concern.getByText(text('community.concerns.told_no'), { exact: true }).waitFor();
    await expectNoViolations(manager.page, 'safeguarding concerns');

    // The author finds no notice of it.
    await navLink(author.page, 'community.nav.notices').click();
    await heading(author.page, 'community.notices.title').waitFor();
    await author.page.locator('.case-list > li').first().waitFor();
    const concernNotices = author.page.locator('.community-notice[data-kind="concern_raised"]');
    assert.equal(await concernNotices.count(), 0, 'notices of a concern the author is not told of');
    assert.equal(await author.page.getByText(councilReason).count(), 0, 'council reason shown');
    assert.equal(await author.page.getByText(notToldBecause).count(), 0, 'why not shown');

    // Passed to the agency with the author told, the post gives the author a
    // notice, which cannot be appealed.
    await post.getByRole('button', { name: openName }).click();
    await organisation.selectOption({ label: AGENCY });
    await form
      .getByLabel(text('community.concern.reason_label'), { exact: true })
      .fill(agencyReason);
    assert.equal(await tell.isChecked(), true, 'Tell the member ticked again');
    await submit.click();
    await post
      .getByText(text('community.concern.done.told', { organisation: AGENCY }), { exact: true })
      .waitFor();

    await author.page.reload();
    await heading(author.page, 'community.notices.title').waitFor();
    const notice = concernNotices.filter({ hasText: agencyReason });
    await notice.waitFor();
    await notice
      .getByRole('heading', { name: text('community.notice.kind.concern_raised'), exact: true })
      .waitFor();
    assert.equal(await concernNotices.count(), 1, 'notices of concerns');
    const appealButton = notice.getByRole('button', {
      name: new RegExp(`^${text('community.appeal.open')}`),
    });
    assert.equal(await appealButton.count(), 0, 'Appeal button on a concern notice');
    assert.equal(await author.page.getByText(notToldBecause).count(), 0, 'why not shown');
    await expectNoViolations(author.page, 'notices with a concern');
  });

  e2eTest(env, 'long group and topic load in pages', async () => {
    const topicTitle = uniqueBody('A long topic');
    const openingBody = uniqueBody('The opening post of a long topic');
    const liveTitle = uniqueBody('A topic that arrives live');
    const liveBody = uniqueBody('The opening post of a live topic');
    const replyBody = uniqueBody('A reply that arrives live');

    // The moderator starts the topic to read in pages. The padding copies it.
    const moderator = await openSignedIn(env, 'community_moderator', { landing: 'community' });
    await openGroup(moderator.page, GROUP);
    await startTopicFromGroup(moderator.page, topicTitle, openingBody);
    const topicUrl = moderator.page.url();
    await moderator.page
      .getByRole('link', { name: text('community.topic.back', { name: GROUP }), exact: true })
      .click();
    await moderator.page.getByRole('heading', { level: 1, name: GROUP, exact: true }).waitFor();

    const member = await openSignedIn(env, 'community_member', { landing: 'community' });
    const { page } = member;
    const topicRequests = await routeTopicPages(page);
    const postRequests = await routePostPages(page);
    const topicItems = page.locator('.community-topic');
    const postItems = page.locator('.community-post');

    // The first page is full, so the group page offers older topics.
    await openGroup(page, GROUP);
    await eventually(async () => assert.equal(await topicItems.count(), TOPICS_PAGE_SIZE));
    const older = page.getByRole('button', { name: text('community.group.older'), exact: true });
    await older.waitFor();
    assert.deepEqual(
      [...new Set(topicRequests.offsets)],
      ['0'],
      'offsets requested before Show older topics',
    );

    // The next page comes from offset 200. Its first topic is shown
    // already, so only the older ones are appended.
    const beforeOlder = topicRequests.offsets.length;
    await older.focus();
    await page.keyboard.press('Enter');
    await eventually(async () =>
      assert.equal(await topicItems.count(), TOPICS_PAGE_SIZE + OLDER_ITEMS),
    );
    // A live reload of the first page (offset 0) may run meanwhile.
    assert.deepEqual(
      topicRequests.offsets.slice(beforeOlder).filter((offset) => offset !== '0'),
      [String(TOPICS_PAGE_SIZE)],
      'offsets requested by Show older topics',
    );
    let listing = topicRequests.listing();
    assert.deepEqual(
      await shownIds(topicItems, 'topicId'),
      listing.map((topic) => topic.id),
      'topics shown after Show older topics',
    );
    const firstOlder = listing[TOPICS_PAGE_SIZE];
    assert.equal(await focusedItemId(page, 'topicId'), firstOlder.id, 'focused topic');
    assert.equal(
      await page.evaluate(() => document.activeElement?.textContent),
      firstOlder.title,
      'focused link',
    );
    await older.waitFor({ state: 'hidden' });
    await expectNoViolations(page, 'group page with older topics');

    // A new topic arrives live: the first page loads again, the new topic
    // comes first, and the older topics stay in order.
    const beforeLive = topicRequests.offsets.length;
    await startTopicFromGroup(moderator.page, liveTitle, liveBody);
    await page.getByRole('link', { name: liveTitle, exact: true }).waitFor();
    await eventually(async () => {
      listing = topicRequests.listing();
      assert.equal(listing[0].title, liveTitle, 'newest topic in the listing');
      assert.deepEqual(
        await shownIds(topicItems, 'topicId'),
        listing.map((topic) => topic.id),
        'topics shown after a live update',
      );
    });
    assert.equal(listing.length, TOPICS_PAGE_SIZE + OLDER_ITEMS + 1, 'topics in the listing');
    assert.deepEqual(
      [...new Set(topicRequests.offsets.slice(beforeLive))],
      ['0'],
      'offsets requested by the live update',
    );
    assert.equal(await older.isVisible(), false, 'Show older topics after a live update');

    // The topic's first page is full, so the topic page offers more posts.
    await page.getByRole('link', { name: topicTitle, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: topicTitle, exact: true }).waitFor();
    await eventually(async () => assert.equal(await postItems.count(), POSTS_PAGE_SIZE));
    const more = page.getByRole('button', {
      name: text('community.topic.more_posts'),
      exact: true,
    });
    await more.waitFor();
    assert.deepEqual(
      [...new Set(postRequests.offsets)],
      ['0'],
      'offsets requested before Show more posts',
    );

    // The next posts come from offset 1,000, and focus moves to the first of them.
    const beforeMore = postRequests.offsets.length;
    await more.focus();
    await page.keyboard.press('Enter');
    await eventually(async () =>
      assert.equal(await postItems.count(), POSTS_PAGE_SIZE + OLDER_ITEMS),
    );
    assert.deepEqual(
      postRequests.offsets.slice(beforeMore).filter((offset) => offset !== '0'),
      [String(POSTS_PAGE_SIZE)],
      'offsets requested by Show more posts',
    );
    let posts = postRequests.listing();
    assert.deepEqual(
      await shownIds(postItems, 'postId'),
      posts.map((post) => post.id),
      'posts shown after Show more posts',
    );
    assert.equal(
      await focusedItemId(page, 'postId'),
      posts[POSTS_PAGE_SIZE].id,
      'focused post',
    );
    await more.waitFor({ state: 'hidden' });

    // A reply arrives live at the end of the topic: every page shown loads
    // again, and the reply follows the posts loaded before.
    const beforeReply = postRequests.offsets.length;
    await moderator.page.goto(topicUrl);
    await moderator.page
      .getByRole('heading', { level: 1, name: topicTitle, exact: true })
      .waitFor();
    await reply(moderator.page, replyBody);
    await postsWithBody(page, replyBody).waitFor();
    await eventually(async () => {
      posts = postRequests.listing();
      assert.deepEqual(
        await shownIds(postItems, 'postId'),
        posts.map((post) => post.id),
        'posts shown after a live reply',
      );
    });
    assert.equal(posts.length, POSTS_PAGE_SIZE + OLDER_ITEMS + 1, 'posts in the listing');
    const reloaded = postRequests.offsets.slice(beforeReply);
    assert.ok(reloaded.includes('0'), `offsets requested by the live reply: ${reloaded}`);
    assert.ok(
      reloaded.includes(String(POSTS_PAGE_SIZE)),
      `offsets requested by the live reply: ${reloaded}`,
    );
    assert.equal(await more.isVisible(), false, 'Show more posts after a live reply');

    // When the topics end with a full page, or a full page of posts sets
    // `more_posts` with no post after it, the next page adds nothing: the
    // button goes, and focus moves to the status that reports it. A
    // member's page is used, because a moderator's 1,000 posts, each with
    // its hidden forms, make role queries too slow.
    const reader = await openSignedIn(env, 'community_member', { landing: 'community' });
    const exactTopics = await routeTopicPages(reader.page, 0);
    const exactPosts = await routePostPages(reader.page, { olderItems: 0, moreOnFullPage: true });
    await openGroup(reader.page, GROUP);
    const readerTopics = reader.page.locator('.community-topic');
    await eventually(async () => assert.equal(await readerTopics.count(), TOPICS_PAGE_SIZE));
    const noOlder = reader.page.getByRole('button', {
      name: text('community.group.older'),
      exact: true,
    });
    await noOlder.press('Enter');
    await reader.page.getByText(text('community.group.no_older'), { exact: true }).waitFor();
    assert.equal(await focusedStatus(reader.page), text('community.group.no_older'));
    await noOlder.waitFor({ state: 'hidden' });
    assert.equal(await readerTopics.count(), TOPICS_PAGE_SIZE, 'topics after the last page');
    assert.equal(exactTopics.offsets.at(-1), String(TOPICS_PAGE_SIZE), 'last topics offset');

    await reader.page.getByRole('link', { name: topicTitle, exact: true }).click();
    await reader.page.getByRole('heading', { level: 1, name: topicTitle, exact: true }).waitFor();
    const readerPosts = reader.page.locator('.community-post');
    await eventually(async () => assert.equal(await readerPosts.count(), POSTS_PAGE_SIZE));
    const noMore = reader.page.getByRole('button', {
      name: text('community.topic.more_posts'),
      exact: true,
    });
    await noMore.press('Enter');
    await reader.page.getByText(text('community.topic.no_more_posts'), { exact: true }).waitFor();
    assert.equal(await focusedStatus(reader.page), text('community.topic.no_more_posts'));
    await noMore.waitFor({ state: 'hidden' });
    assert.equal(await readerPosts.count(), POSTS_PAGE_SIZE, 'posts after the last page');
    assert.equal(exactPosts.offsets.at(-1), String(POSTS_PAGE_SIZE), 'last posts offset');
  });
});
