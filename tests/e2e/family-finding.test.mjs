// Family finding between the demo council and agency. The council's
// practitioner creates a sibling group and publishes it to all. The
// agency's practitioner finds it with the search filters, reads how it
// fits the demo family "The Adeyemi family", and expresses that family's
// interest. Both practitioners then talk live in the discussion it opens,
// the agency sends a PDF document, and the interest moves to progressing
// and linked. At phone width, the council's practitioner then reads the
// statistics, meets the errors of the case forms, publishes the case to a
// named organisation and edits it. Next the council's manager transfers
// the case to the agency, whose manager reads the discussion's whole
// history, and the council's practitioner can no longer open the case.
// Last, the platform operator adds an organisation and edits its terms.
// Each new page is checked with axe on the way.
//
// The tests share one server and run in order, because the transfer needs
// the case and the discussion of the first test.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe } from 'node:test';

import {
  cspViolations,
  e2eTest,
  eventually,
  expectNoViolations,
  expectSingleMessage,
  heading,
  messagesWithBody,
  minimalPdf,
  openSignedIn,
  PHONE,
  sendMessage,
  text,
  uniqueBody,
  useServerAndBrowser,
  waitForStatus,
} from './harness.mjs';

/** How long the server may take to check an uploaded PDF. */
const PROCESSING_TIMEOUT_MS = 60_000;

const SIBLINGS = [
  { first_name: 'Amara', age_years: 3 },
  { first_name: 'Kofi', age_years: 6 },
];
const SIBLINGS_TITLE = 'Amara, Kofi';
const FAMILY_TITLE = 'The Adeyemi family';
const AGENCY = 'Harbour Adoption Agency';
const COUNCIL = 'Northshire Council';

/** What the first test leaves for the transfer test. */
const shared = { caseUrl: null, conversationUrl: null, messages: [], documentName: null };

function escapeRegExp(value) {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function label(page, key, params) {
  return page.getByLabel(text(key, params), { exact: true });
}

function button(page, key, params) {
  return page.getByRole('button', { name: text(key, params), exact: true });
}

function region(page, key, params) {
  return page.getByRole('region', { name: text(key, params), exact: true });
}

function codeText(list, code) {
  return text(`codes.${list}.${code}`);
}

async function isFocused(locator) {
  return locator.evaluate((element) => element === document.activeElement);
}

async function expectNoHorizontalScroll(page, pageName) {
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  assert.ok(overflow <= 0, `${pageName} scrolls sideways by ${overflow} px`);
}

/** Opens a family-finding page from the main navigation and then the section's own. */
async function openSection(page, navKey, headingKey) {
  await page
    .getByRole('navigation', { name: text('nav.label') })
    .getByRole('link', { name: text('nav.family_finding'), exact: true })
    .click();
  await heading(page, 'cases.title').waitFor();
  await page
    .getByRole('navigation', { name: text('nav.ff.label') })
    .getByRole('link', { name: text(navKey), exact: true })
    .click();
  await heading(page, headingKey).waitFor();
}

/** Fills the child case form with `SIBLINGS` and the codes and needs of the test's case. */
async function fillChildCase(page) {
  const children = page.getByRole('group', { name: text('case_form.children_legend') });
  await button(page, 'case_form.child_add').click();
  for (const [index, child] of SIBLINGS.entries()) {
    const row = children.getByRole('group', {
      name: text('case_form.child_legend', { position: index + 1 }),
    });
    await label(row, 'case_form.child_name_label').fill(child.first_name);
    await label(row, 'case_form.child_age_label').fill(String(child.age_years));
  }
  await label(page, 'case_form.description_label').fill(
    'A sister and brother who make each other laugh.\nAmara loves music; Kofi builds dens.',
  );
  await label(page, 'case_form.legal_status_label').selectOption({
    label: codeText('legal_status', 'placement_order'),
  });
  await label(page, 'case_form.plan_label').selectOption({ label: codeText('plan', 'adoption') });
  await label(page, 'case_form.region_label').selectOption({
    label: codeText('region', 'north_east'),
  });
  const levels = { health: 'low', development: 'moderate', history: 'low' };
  for (const [area, level] of Object.entries(levels)) {
    const areaName = codeText('need_area', area);
    await label(page, 'case_form.need_level_label', { area: areaName }).selectOption({
      label: codeText('need', level),
    });
  }
  await label(page, 'case_form.need_notes_label', { area: codeText('need_area', 'health') }).fill(
    'Kofi has eczema, treated with creams.',
  );
  await label(page, 'case_form.ethnicity_label').selectOption({
    label: codeText('ethnicity', 'black'),
  });
}

/** Returns the item of the interest of `FAMILY_TITLE` in `SIBLINGS_TITLE` on an interests list. */
function interestCard(page) {
  const name = text('interests.name', { child: SIBLINGS_TITLE, family: FAMILY_TITLE });
  return page
    .locator('.case-card')
    .filter({ has: page.getByRole('heading', { name, exact: true }) });
}

/** Chooses `paths` through the composer's attach button and the file chooser it opens. */
async function attachFiles(page, paths) {
  const chooser = page.waitForEvent('filechooser');
  await button(page, 'attachment.attach').click();
  await (await chooser).setFiles(paths);
}

/** Matches the download link text of the file `name`, whatever its size. */
function downloadPattern(name) {
  const [start, end] = text('attachment.download', { name }).split('{size}');
  return new RegExp(`^${escapeRegExp(start)}.+${escapeRegExp(end)}$`);
}

describe('family finding', () => {
  const env = useServerAndBrowser();
  let folder;
  let documentPath;

  before(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'kinlink-e2e-family-finding-'));
    documentPath = path.join(folder, 'life story summary.pdf');
    await writeFile(documentPath, minimalPdf());
  });
  after(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  e2eTest(env, 'sibling group found, interest expressed, discussed', async () => {
    const council = await openSignedIn(env, 'la_practitioner');
    const page = council.page;
    await openSection(page, 'nav.ff.cases', 'cases.title');
    await expectNoViolations(page, 'cases page');

    // An empty form names each problem next to its field, and focus goes to the first.
    await page.getByRole('link', { name: text('cases.create.child'), exact: true }).click();
    await heading(page, 'case_form.title_new.child').waitFor();
    await button(page, 'case_form.create').click();
    await page.getByText(text('case_form.child_name_missing'), { exact: true }).waitFor();
    await page.getByText(text('case_form.description_missing'), { exact: true }).waitFor();
    const firstName = label(page, 'case_form.child_name_label');
    assert.ok(await isFocused(firstName), 'focus moves to the first child name');
    assert.equal(
      await label(page, 'case_form.description_label').getAttribute('aria-invalid'),
      'true',
    );
    await expectNoViolations(page, 'new child case form with errors');

    await fillChildCase(page);
    await button(page, 'case_form.create').click();
    await page.getByRole('heading', { level: 1, name: SIBLINGS_TITLE, exact: true }).waitFor();
    shared.caseUrl = page.url();
    await page.getByText(text('publication.now.draft', { organisation: COUNCIL })).waitFor();

    // Published to every licensed organisation, with names.
    const publication = region(page, 'publication.title');
    await publication.getByLabel(text('publication.choice.all'), { exact: true }).check();
    await button(publication, 'publication.save').click();
    await publication.getByText(text('publication.saved'), { exact: true }).waitFor();
    await publication.getByText(text('publication.now.all'), { exact: true }).waitFor();

    // The agency's family is among the suggested matches, its score explained.
    const matches = region(page, 'matches.title');
    const suggestion = matches.locator('.case-card').filter({ hasText: FAMILY_TITLE });
    await suggestion.waitFor();
    assert.match(
      await suggestion.locator('.match__score').innerText(),
      /^Meets 6 of 7 criteria, 93%/,
    );
    await expectNoViolations(page, 'own child case page');

    // The agency finds it: the filters leave out the demo siblings, aged 4 and 7.
    const agency = await openSignedIn(env, 'va_practitioner');
    const ap = agency.page;
    await openSection(ap, 'nav.ff.search', 'search.title');
    await ap.getByLabel(text('search.kind.children'), { exact: true }).check();
    const filters = ap.getByRole('group', { name: text('search.filters_legend.children') });
    await label(filters, 'search.filter.children.min_age').fill('3');
    await label(filters, 'search.filter.children.max_age').fill('6');
    await label(filters, 'search.filter.children.min_group_size').fill('2');
    await label(filters, 'search.filter.children.region').selectOption({
      label: codeText('region', 'north_east'),
    });
    await button(ap, 'search.submit').click();
    const results = region(ap, 'search.results_title');
    await results.getByText(text('search.found.children.one'), { exact: true }).waitFor();
    assert.ok(
      await isFocused(ap.getByRole('heading', { name: text('search.results_title') })),
      'focus moves to the results',
    );
    assert.equal(await results.getByRole('link', { name: 'Maisie, Jack' }).count(), 0);
    assert.match(ap.url(), /#\/search\?kind=children&min_age=3&max_age=6/);
    await expectNoViolations(ap, 'search page with results');

    // A filter out of range is named next to its field, and nothing is sent.
    await label(filters, 'search.filter.children.max_age').fill('18');
    await button(ap, 'search.submit').click();
    await filters
      .getByText(text('search.number_invalid', { min: 0, max: 17 }), { exact: true })
      .waitFor();
    await label(filters, 'search.filter.children.max_age').fill('6');

    await results.getByRole('link', { name: SIBLINGS_TITLE, exact: true }).click();
    await ap.getByRole('heading', { level: 1, name: SIBLINGS_TITLE, exact: true }).waitFor();
    await ap.getByText(text('case.kind_line.child', { organisation: COUNCIL })).waitFor();

    // How the children fit the agency's family, criterion by criterion.
    const interest = region(ap, 'interest.title');
    const fit = interest.locator('.case-card').filter({ hasText: FAMILY_TITLE });
    await fit.waitFor();
    assert.match(
      await fit.locator('.match__score').innerText(),
      /^Meets 6 of 7 criteria, 93%\. The criteria met carry 15 of 16 points\.$/,
    );
    const regionCriterion = fit
      .locator('.criterion')
      .filter({ hasText: text('codes.criterion.region') });
    await regionCriterion.getByText(text('matches.not_met'), { exact: true }).waitFor();
    await regionCriterion
      .getByText(
        text('matches.detail.region', {
          needed: codeText('region', 'north_east'),
          offered: codeText('region', 'yorkshire_and_humber'),
        }),
      )
      .waitFor();
    const planCriterion = fit
      .locator('.criterion')
      .filter({ hasText: text('codes.criterion.plan') });
    await planCriterion.getByText(text('matches.met'), { exact: true }).waitFor();
    await expectNoViolations(ap, 'child case of another organisation');

    // Expressing interest opens the discussion.
    await label(interest, 'interest.family_label').selectOption({ label: FAMILY_TITLE });
    await button(interest, 'interest.submit').click();
    await ap.getByRole('log').waitFor();
    await heading(ap, 'conversation.heading', {
      kind: text('conversations.kind.discussion'),
      names: env.server.users.la_practitioner.display_name,
    }).waitFor();
    shared.conversationUrl = ap.url();

    // The council's practitioner finds the interest and its discussion.
    await openSection(page, 'nav.ff.interests', 'interests.title');
    const card = interestCard(page);
    await card.getByText(codeText('interest_state', 'open'), { exact: true }).waitFor();
    await expectNoViolations(page, 'interests page');
    await card
      .getByRole('link', { name: new RegExp(`^${text('interests.discussion_link')}`) })
      .click();
    await page.getByRole('log').waitFor();
    assert.equal(page.url(), shared.conversationUrl, 'both open the same discussion');

    const question = uniqueBody('Could we arrange a call about Amara and Kofi?');
    await sendMessage(ap, question);
    await expectSingleMessage(page, question, env.server.users.va_practitioner.display_name);
    const answer = uniqueBody('Yes, Thursday at ten works for us');
    await sendMessage(page, answer);
    await expectSingleMessage(ap, answer, env.server.users.la_practitioner.display_name);
    await waitForStatus(page, answer, 'conversation.status.read');
    shared.messages = [
      { body: question, from: 'va_practitioner' },
      { body: answer, from: 'la_practitioner' },
    ];

    // The agency sends a PDF, and the council gets a link that downloads it.
    const documentName = path.basename(documentPath);
    await attachFiles(ap, [documentPath]);
    await eventually(async () => {
      const state = await ap
        .locator('.draft')
        .filter({ hasText: documentName })
        .locator('.draft__state')
        .innerText();
      assert.equal(state, text('attachment.ready'), 'state of the document');
    }, PROCESSING_TIMEOUT_MS);
    const withDocument = uniqueBody('The life story summary is attached');
    await sendMessage(ap, withDocument);
    const link = messagesWithBody(page, withDocument).getByRole('link', {
      name: downloadPattern(documentName),
    });
    await link.waitFor();
    const response = await page.request.get(
      new URL(await link.getAttribute('href'), page.url()).href,
    );
    assert.equal(response.status(), 200, 'document download status');
    assert.ok((await response.body()).toString('latin1').startsWith('%PDF-'), 'document content');
    shared.messages.push({ body: withDocument, from: 'va_practitioner' });
    shared.documentName = documentName;

    // The interest moves to progressing, then linked.
    await openSection(page, 'nav.ff.interests', 'interests.title');
    const progressName = `${text('interests.next.progressing')} ${text('interests.name', {
      child: SIBLINGS_TITLE,
      family: FAMILY_TITLE,
    })}`;
    await interestCard(page).getByRole('button', { name: progressName, exact: true }).click();
    await interestCard(page)
      .getByText(codeText('interest_state', 'progressing'), { exact: true })
      .waitFor();
    const linkName = progressName.replace(
      text('interests.next.progressing'),
      text('interests.next.linked'),
    );
    await interestCard(page).getByRole('button', { name: linkName, exact: true }).click();
    await interestCard(page)
      .getByText(codeText('interest_state', 'linked'), { exact: true })
      .waitFor();
    assert.equal(
      await interestCard(page)
        .getByRole('button', { name: /^Mark as|^Move to/ })
        .count(),
      0,
      'a next-state button after linked',
    );

    // Ending it offers only the reasons of the chosen end.
    await interestCard(page)
      .getByRole('button', { name: new RegExp(`^${text('interests.end')}`) })
      .click();
    const endForm = interestCard(page).getByRole('form');
    await endForm.getByLabel(text('interests.end_choice.placed'), { exact: true }).check();
    const reasons = await label(endForm, 'interests.reason_label')
      .locator('option')
      .allInnerTexts();
    assert.deepEqual(reasons.slice(1), [codeText('end_reason', 'placement_made')]);
    await expectNoViolations(page, 'interests page while ending one');
    await button(endForm, 'interests.end_cancel').click();

    assert.deepEqual(cspViolations(council), [], 'Content-Security-Policy violations (council)');
    assert.deepEqual(cspViolations(agency), [], 'Content-Security-Policy violations (agency)');
  });

  e2eTest(env, 'phone width pages and edits', async () => {
    const { page } = await openSignedIn(env, 'la_practitioner', { viewport: PHONE });
    await openSection(page, 'nav.ff.statistics', 'statistics.title');
    const views = page.getByRole('region', { name: text('statistics.views_caption') });
    await views.getByRole('link', { name: SIBLINGS_TITLE }).waitFor();
    const children = page.getByRole('region', { name: text('statistics.children_caption') });
    await children.waitFor();
    const counts = await children.locator('td').allInnerTexts();
    assert.ok(counts.includes(text('statistics.suppressed')), `children counts: ${counts}`);
    assert.ok(!counts.includes('0'), `a suppressed count shown as 0: ${counts}`);
    await expectNoViolations(page, 'statistics (phone)');
    await expectNoHorizontalScroll(page, 'statistics');

    await openSection(page, 'nav.ff.search', 'search.title');
    await page.locator('.case-list > li').first().waitFor();
    await expectNoViolations(page, 'search (phone)');
    await expectNoHorizontalScroll(page, 'search');

    await openSection(page, 'nav.ff.cases', 'cases.title');
    await page.getByRole('link', { name: text('cases.create.family'), exact: true }).click();
    await heading(page, 'case_form.title_new.family').waitFor();
    await label(page, 'case_form.offer_min_age_label').fill('9');
    await label(page, 'case_form.offer_max_age_label').fill('4');
    await button(page, 'case_form.create').click();
    await page.getByText(text('case_form.household_name_missing'), { exact: true }).waitFor();
    await page.getByText(text('case_form.approved_for_missing'), { exact: true }).waitFor();
    await page.getByText(text('case_form.offer_ages_reversed'), { exact: true }).waitFor();
    assert.ok(
      await isFocused(label(page, 'case_form.household_name_label')),
      'focus moves to the household name',
    );
    await expectNoViolations(page, 'new family case form with errors (phone)');
    await expectNoHorizontalScroll(page, 'new family case form');

    // Filled in, the form creates the case with the levels chosen.
    await label(page, 'case_form.household_name_label').fill('The Okoro family');
    await label(page, 'case_form.household_description_label').fill(
      'A couple with a spare room and a big garden.',
    );
    await page.getByLabel(codeText('plan', 'adoption'), { exact: true }).check();
    await label(page, 'case_form.approval_date_label').fill('2026-03-02');
    await label(page, 'case_form.region_label').selectOption({ label: codeText('region', 'london') });
    await label(page, 'case_form.ethnicity_label').selectOption({
      label: codeText('ethnicity', 'mixed'),
    });
    await label(page, 'case_form.offer_min_age_label').fill('2');
    await label(page, 'case_form.offer_max_age_label').fill('9');
    await label(page, 'case_form.offer_max_children_label').fill('2');
    for (const area of ['health', 'development', 'history']) {
      await label(page, 'case_form.offer_need_label', {
        area: codeText('need_area', area),
      }).selectOption({ label: codeText('need', 'high') });
    }
    await button(page, 'case_form.create').click();
    await page.getByRole('heading', { level: 1, name: 'The Okoro family', exact: true }).waitFor();

    await page.goto(shared.caseUrl);
    await page.getByRole('heading', { level: 1, name: SIBLINGS_TITLE, exact: true }).waitFor();
    await region(page, 'matches.title').locator('.case-card').first().waitFor();
    await expectNoViolations(page, 'own child case page (phone)');
    await expectNoHorizontalScroll(page, 'own child case page');

    // Publishing to named organisations offers those of the directory.
    const publication = region(page, 'publication.title');
    await publication.getByLabel(text('publication.choice.named'), { exact: true }).check();
    await button(publication, 'publication.save').click();
    await publication
      .getByText(text('publication.organisations_missing'), { exact: true })
      .waitFor();
    await publication.getByLabel(AGENCY, { exact: true }).check();
    await button(publication, 'publication.save').click();
    await publication
      .getByText(text('publication.now.named', { organisations: AGENCY }), { exact: true })
      .waitFor();

    // Editing replaces the profile. A rule that only the server checks (no
    // bidirectional control characters) is shown next to the field it names.
    await page.getByRole('link', { name: text('case.edit'), exact: true }).click();
    await heading(page, 'case_form.title_edit', { title: SIBLINGS_TITLE }).waitFor();
    const religion = label(page, 'case_form.religion_label');
    await religion.fill('Christian\u202e');
    await button(page, 'case_form.save').click();
    await page.getByText(text('case_form.invalid.religion'), { exact: true }).waitFor();
    assert.equal(await religion.getAttribute('aria-invalid'), 'true', 'religion marked invalid');
    assert.ok(await isFocused(religion), 'focus moves to the religion field');
    await expectNoViolations(page, 'case edit form with a server error (phone)');

    await religion.fill('Christian');
    await button(page, 'case_form.save').click();
    await page.getByRole('heading', { level: 1, name: SIBLINGS_TITLE, exact: true }).waitFor();
    await region(page, 'case.profile_title').getByText('Christian', { exact: true }).waitFor();
  });

  e2eTest(env, 'case transfer shares the discussion history', async () => {
    assert.ok(shared.caseUrl, 'the case of the first test');
    assert.ok(shared.conversationUrl, 'the discussion of the first test');
    const manager = await openSignedIn(env, 'la_manager');
    const page = manager.page;
    await page.goto(shared.caseUrl);
    await page.getByRole('heading', { level: 1, name: SIBLINGS_TITLE, exact: true }).waitFor();

    // The transfer form is for managers only.
    const practitioner = await openSignedIn(env, 'la_practitioner');
    await practitioner.page.goto(shared.caseUrl);
    await practitioner.page
      .getByRole('heading', { level: 1, name: SIBLINGS_TITLE, exact: true })
      .waitFor();
    await region(practitioner.page, 'case.interests_title').locator('.case-card').first().waitFor();
    assert.equal(await region(practitioner.page, 'transfer.title').count(), 0, 'transfer form');

    const transfer = region(page, 'transfer.title');
    await label(transfer, 'transfer.organisation_label').selectOption({ label: AGENCY });
    await label(transfer, 'transfer.reference_label').fill('ADM-2026-117');
    await label(transfer, 'transfer.approved_on_label').fill('2026-11-30');
    await expectNoViolations(page, 'own case page of a manager');
    await button(transfer, 'transfer.submit').click();
    const question = text('transfer.confirm_title', {
      title: SIBLINGS_TITLE,
      organisation: AGENCY,
    });
    const confirmHeading = transfer.getByRole('heading', { name: question, exact: true });
    await confirmHeading.waitFor();
    assert.ok(await isFocused(confirmHeading), 'focus moves to the question');
    await button(transfer, 'transfer.confirm').click();
    await heading(page, 'transfer.done_title').waitFor();
    await page
      .getByText(text('transfer.done', { title: SIBLINGS_TITLE, organisation: AGENCY }))
      .waitFor();

    // The agency's manager reads the whole discussion, document included.
    // The council's practitioner has left it, so their messages show as a
    // former member's.
    const agencyManager = await openSignedIn(env, 'va_manager');
    const ap = agencyManager.page;
    await openSection(ap, 'nav.ff.interests', 'interests.title');
    await interestCard(ap)
      .getByRole('link', { name: new RegExp(`^${text('interests.discussion_link')}`) })
      .click();
    await ap.getByRole('log').waitFor();
    assert.equal(ap.url(), shared.conversationUrl, 'the manager opens the same discussion');
    for (const message of shared.messages) {
      const sender =
        message.from === 'la_practitioner'
          ? text('conversation.former_member')
          : env.server.users[message.from].display_name;
      await expectSingleMessage(ap, message.body, sender);
    }
    await messagesWithBody(ap, shared.messages.at(-1).body)
      .getByRole('link', { name: downloadPattern(shared.documentName) })
      .waitFor();

    // The case now shows as the agency's, and the council can no longer open it.
    await ap.goto(shared.caseUrl);
    await ap.getByText(text('case.kind_line.child', { organisation: AGENCY })).waitFor();
    await practitioner.page.reload();
    await heading(practitioner.page, 'case.not_found_title').waitFor();

    // The council's audit trail records the transfer.
    await openSection(page, 'nav.ff.audit', 'audit.title');
    await page
      .getByRole('region', { name: text('audit.caption') })
      .getByText(text('audit.action.case.transferred_out'), { exact: true })
      .first()
      .waitFor();
    await expectNoViolations(page, 'audit trail');
  });

  e2eTest(env, 'operator adds an organisation', async () => {
    const record = await openSignedIn(env, 'platform_admin', { hasConversations: false });
    const { page } = record;
    const nav = page.getByRole('navigation', { name: text('nav.label') });
    assert.equal(
      await nav.getByRole('link', { name: text('nav.family_finding') }).count(),
      0,
      'Family finding link for the operator',
    );
    await nav.getByRole('link', { name: text('nav.organisations'), exact: true }).click();
    await heading(page, 'admin_orgs.title').waitFor();
    const list = region(page, 'admin_orgs.list_heading');
    await list.getByRole('heading', { name: AGENCY, exact: true }).waitFor();
    await expectNoViolations(page, 'organisations page');

    const form = region(page, 'admin_orgs.create_heading');
    await button(form, 'admin_orgs.create').click();
    await form.getByText(text('admin_orgs.name_missing'), { exact: true }).waitFor();
    await form.getByText(text('admin_orgs.kind_missing'), { exact: true }).waitFor();
    assert.ok(await isFocused(label(form, 'admin_orgs.name_label')), 'focus moves to the name');
    await expectNoViolations(page, 'new organisation form with errors');

    const name = 'Riverside Fostering';
    await label(form, 'admin_orgs.name_label').fill(name);
    await form
      .getByLabel(codeText('organisation_kind', 'independent_fostering_provider'), { exact: true })
      .check();
    await label(form, 'admin_orgs.starts_label').fill('2026-01-01');
    await label(form, 'admin_orgs.expires_label').fill('2029-01-01');
    await label(form, 'admin_orgs.families_edit_label').check();
    await button(form, 'admin_orgs.create').click();
    await page.getByText(text('admin_orgs.created', { name }), { exact: true }).waitFor();
    const card = list
      .getByRole('listitem')
      .filter({ has: page.getByRole('heading', { name, exact: true }) });
    await card.getByText(codeText('licence', 'active'), { exact: true }).waitFor();
    await card.getByText(text('admin_orgs.families_edit_yes'), { exact: true }).waitFor();

    // Its terms change in place.
    await card.getByRole('button', { name: `${text('admin_orgs.edit')} ${name}` }).click();
    await label(card, 'admin_orgs.retention_label').fill('730');
    await expectNoViolations(page, 'organisation terms form');
    await button(card, 'admin_orgs.save').click();
    await page.getByText(text('admin_orgs.saved', { name }), { exact: true }).waitFor();
    await list
      .getByRole('listitem')
      .filter({ has: page.getByRole('heading', { name, exact: true }) })
      .getByText(text('admin_orgs.retention.other', { count: 730 }), { exact: true })
      .waitFor();
    assert.deepEqual(cspViolations(record), [], 'Content-Security-Policy violations');
  });
});
