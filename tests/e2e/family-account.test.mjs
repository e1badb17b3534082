// Families who keep their own profile, and the first manager of a new
// organisation.
//
// The agency's practitioner invites the demo family "The Adeyemi family"
// from its case page, and the test takes the link from the email in the
// server's outbox. The family accepts it in a browser of its own with a
// password only, and its sign-in is refused as pending until the
// practitioner confirms the account. The family then finds its profile
// under "My family profile", without any of the workers' areas. While the
// agency does not let families edit, the page says so and offers no Edit
// link; once the platform operator has turned that on in the admin area,
// the family edits its profile. The approval shows as text and is saved
// unchanged. Last, the practitioner removes the family's access.
//
// In the second test the platform operator adds an organisation, invites
// its first manager, who accepts and sets up an authenticator app, and
// approves them, after which the organisation's own managers run it.

import assert from 'node:assert/strict';
import { describe } from 'node:test';

import {
  e2eTest,
  eventually,
  expectNoViolations,
  heading,
  openPage,
  openSignedIn,
  signIn,
  submitPassword,
  text,
  useServerAndBrowser,
} from './harness.mjs';
import { freshTotp } from './totp.mjs';

const FAMILY_TITLE = 'The Adeyemi family';
const AGENCY = 'Harbour Adoption Agency';
const FAMILY = {
  email: 'funmi.e2e@family.example',
  display_name: 'Funmi Adeyemi',
  password: 'garden greyhound willow lamp',
};
const NEW_DESCRIPTION =
  'A couple in their forties with a large garden, a retired greyhound and a new vegetable patch.';
/** The demo family's approval: adoption, approved on 12 February 2026. */
const APPROVAL_DATE_TEXT = '12 February 2026';

const NEW_ORGANISATION = 'Riverside Fostering';
const MANAGER = {
  email: 'lee.e2e@riverside.example',
  display_name: 'Lee Carter',
  password: 'pebble orchard violin harbour',
};

/** How long the server may take to write an invitation email into its outbox. */
const EMAIL_TIMEOUT_MS = 30_000;

function label(page, key, params) {
  return page.getByLabel(text(key, params), { exact: true });
}

function button(page, key, params) {
  return page.getByRole('button', { name: text(key, params), exact: true });
}

function region(page, key, params) {
  return page.getByRole('region', { name: text(key, params), exact: true });
}

async function isFocused(locator) {
  return locator.evaluate((element) => element === document.activeElement);
}

/** Waits for the invitation email to `address` and returns the link it carries. */
async function invitationLink(env, address) {
  return eventually(async () => {
    const email = await env.server.newestEmailTo(address);
    assert.ok(email, `no email to ${address} in the outbox yet`);
    // The token must end at a line break, so a file still being written never matches.
    const match = email.body.match(/(\S+\/invitation#[A-Za-z0-9_-]+)\r?\n/);
    assert.ok(match, `no invitation link in the email:\n${email.body}`);
    return match[1];
  }, EMAIL_TIMEOUT_MS);
}

/** Opens the demo family case from the Family finding section's case list. */
async function openFamilyCase(page) {
  await page
    .getByRole('navigation', { name: text('nav.label') })
    .getByRole('link', { name: text('nav.family_finding'), exact: true })
    .click();
  await heading(page, 'cases.title').waitFor();
  await region(page, 'cases.heading.family')
    .getByRole('link', { name: FAMILY_TITLE, exact: true })
    .click();
  await page.getByRole('heading', { level: 1, name: FAMILY_TITLE, exact: true }).waitFor();
}

/** Opens the admin area's Organisations page and returns the card of `name`. */
async function openOrganisationCard(page, name) {
  await page
    .getByRole('navigation', { name: text('nav.label') })
    .getByRole('link', { name: text('nav.organisations'), exact: true })
    .click();
  await heading(page, 'admin_orgs.title').waitFor();
  return organisationCard(page, name);
}

function organisationCard(page, name) {
  return region(page, 'admin_orgs.list_heading')
    .getByRole('listitem')
    .filter({ has: page.getByRole('heading', { level: 3, name, exact: true }) });
}

describe('families who keep their own profile', () => {
  const env = useServerAndBrowser();

  e2eTest(env, 'family invited, confirmed, edits profile', async () => {
    const agency = await openSignedIn(env, 'va_practitioner');
    const { page } = agency;
    await openFamilyCase(page);
    const access = region(page, 'family_account.title');
    await access.getByText(text('family_account.status.none'), { exact: true }).waitFor();
    await access.getByText(text('family_account.state.none')).waitFor();
    await expectNoViolations(page, 'family case without family access');

    // Empty fields are each named, and focus goes to the first.
    const emailField = label(access, 'family_account.email_label');
    await button(access, 'family_account.invite_submit').click();
    await access.getByText(text('invite_form.email_missing'), { exact: true }).waitFor();
    await access.getByText(text('invite_form.name_missing'), { exact: true }).waitFor();
    assert.ok(await isFocused(emailField), 'focus moves to the empty email field');
    await expectNoViolations(page, 'family invitation form with errors');

    // An address the server rejects is named at its field, and what was typed stays.
    const nameField = label(access, 'family_account.name_label');
    await emailField.fill('funmi.e2e@family');
    await nameField.fill(FAMILY.display_name);
    await button(access, 'family_account.invite_submit').click();
    await access.getByText(text('error.request.invalid_field.email'), { exact: true }).waitFor();
    assert.equal(await emailField.getAttribute('aria-invalid'), 'true', 'email marked invalid');
    assert.equal(await nameField.inputValue(), FAMILY.display_name, 'typed name kept');

    await emailField.fill(FAMILY.email);
    await button(access, 'family_account.invite_submit').click();
    await access
      .getByText(text('family_account.invited', { email: FAMILY.email }), { exact: true })
      .waitFor();
    await access.getByText(text('family_account.status.invited'), { exact: true }).waitFor();
    await access.getByText(`${FAMILY.display_name} has been invited at ${FAMILY.email}.`).waitFor();
    assert.equal(await emailField.count(), 0, 'invitation form shown while an invitation waits');
    assert.ok(
      await isFocused(access.getByRole('heading', { name: text('family_account.title') })),
      'focus moves to the area heading after inviting',
    );
    await expectNoViolations(page, 'family case with a waiting invitation');

    // The family opens the emailed link in a browser of its own and sets a
    // password, with no authenticator app.
    const link = await invitationLink(env, FAMILY.email);
    const family = await openPage(env, 'family');
    const fp = family.page;
    await fp.goto(link);
    await heading(fp, 'invitation.greeting', { name: FAMILY.display_name }).waitFor();
    await fp.getByText(text('invitation.family_intro'), { exact: true }).waitFor();
    assert.equal(await label(fp, 'invitation.totp_label').count(), 0, 'authenticator code field');
    await expectNoViolations(fp, 'family profile invitation');
    await label(fp, 'invitation.password_label').fill(FAMILY.password);
    await label(fp, 'invitation.repeat_label').fill(FAMILY.password);
    await button(fp, 'invitation.submit').click();
    await heading(fp, 'invitation.pending_title').waitFor();
    await fp.getByText(text('invitation.family_pending_next'), { exact: true }).waitFor();
    await expectNoViolations(fp, 'family profile invitation accepted');

    // Until the practitioner confirms, sign-in shows that the account is pending.
    await fp.getByRole('link', { name: text('invitation.sign_in_link') }).click();
    await heading(fp, 'signin.title').waitFor();
    await submitPassword(fp, FAMILY);
    await fp.getByText(text('error.auth.account_pending'), { exact: true }).waitFor();

    await page.reload();
    await access.getByText(text('family_account.status.pending'), { exact: true }).waitFor();
    await expectNoViolations(page, 'family case with an account waiting for confirmation');
    await button(access, 'family_account.confirm').click();
    await access
      .getByText(text('family_account.confirmed', { name: FAMILY.display_name }), { exact: true })
      .waitFor();
    await access.getByText(text('family_account.status.active'), { exact: true }).waitFor();
    assert.equal(await button(access, 'family_account.confirm').count(), 0, 'Confirm button');

    // The family signs in and finds its profile, with none of the workers' areas.
    await signIn(env, family, FAMILY, { hasConversations: false });
    const nav = fp.getByRole('navigation', { name: text('nav.label') });
    assert.equal(
      await nav.getByRole('link', { name: text('nav.family_finding') }).count(),
      0,
      'Family finding link for a family',
    );
    await nav.getByRole('link', { name: text('nav.family_profile'), exact: true }).click();
    await heading(fp, 'family_profile.title').waitFor();
    const profiles = fp.getByRole('list', { name: text('family_profile.list_heading') });
    const profileLink = profiles.getByRole('link', { name: FAMILY_TITLE, exact: true });
    await profileLink.waitFor();
    await expectNoViolations(fp, 'my family profile');

    await profileLink.click();
    await fp.getByRole('heading', { level: 1, name: FAMILY_TITLE, exact: true }).waitFor();
    await fp.getByText(text('case.kind_line.own_family', { organisation: AGENCY })).waitFor();
    const navProfile = nav.getByRole('link', { name: text('nav.family_profile'), exact: true });
    assert.equal(await navProfile.getAttribute('aria-current'), 'page', 'navigation entry marked');
    for (const key of [
      'publication.title',
      'matches.title',
      'case.interests_title',
      'family_account.title',
    ]) {
      assert.equal(await region(fp, key).count(), 0, `${text(key)} area shown to the family`);
    }
    assert.equal(
      await fp.getByRole('navigation', { name: text('nav.ff.label') }).count(),
      0,
      'family-finding section navigation shown to the family',
    );
    await expectNoViolations(fp, 'family case page for the family');

    // The agency does not let families edit yet, so the page says so and
    // offers no Edit link.
    await fp
      .getByText(text('case.family_edit_off', { organisation: AGENCY }), { exact: true })
      .waitFor();
    assert.equal(
      await fp.getByRole('link', { name: text('case.edit'), exact: true }).count(),
      0,
      'Edit offered while the agency does not let families edit',
    );

    // The operator lets the agency's families edit their profiles.
    const operator = await openSignedIn(env, 'platform_admin', { hasConversations: false });
    const op = operator.page;
    const card = await openOrganisationCard(op, AGENCY);
    await card.getByText(text('first_manager.founded', { organisation: AGENCY })).waitFor();
    await card.getByRole('button', { name: `${text('admin_orgs.edit')} ${AGENCY}` }).click();
    await label(card, 'admin_orgs.families_edit_label').check();
    await button(card, 'admin_orgs.save').click();
    await op.getByText(text('admin_orgs.saved', { name: AGENCY }), { exact: true }).waitFor();
    await organisationCard(op, AGENCY)
      .getByText(text('admin_orgs.families_edit_yes'), { exact: true })
      .waitFor();

    // Now the family edits. The approval shows as text, not as fields, and
    // is saved as it was.
    await fp.reload();
    await fp.getByRole('link', { name: text('case.edit'), exact: true }).click();
    await heading(fp, 'case_form.title_edit', { title: FAMILY_TITLE }).waitFor();
    const approval = fp.getByRole('group', { name: text('case_form.approval_legend') });
    await approval.getByText(text('codes.plan.adoption'), { exact: true }).waitFor();
    await approval.getByText(APPROVAL_DATE_TEXT, { exact: true }).waitFor();
    assert.equal(await label(fp, 'case_form.approval_date_label').count(), 0, 'date field');
    assert.equal(
      await fp.getByRole('group', { name: text('case_form.approved_for_legend') }).count(),
      0,
      'approved-for checkboxes',
    );
    await expectNoViolations(fp, 'family edit form');
    await label(fp, 'case_form.household_description_label').fill(NEW_DESCRIPTION);
    await button(fp, 'case_form.save').click();
    await fp.getByRole('heading', { level: 1, name: FAMILY_TITLE, exact: true }).waitFor();
    const profile = region(fp, 'case.profile_title');
    await profile.getByText(NEW_DESCRIPTION, { exact: true }).waitFor();
    await profile.getByText(APPROVAL_DATE_TEXT, { exact: true }).waitFor();
    await fp.reload();
    await region(fp, 'case.profile_title').getByText(NEW_DESCRIPTION, { exact: true }).waitFor();

    // The practitioner sees the family's change, and removes its access
    // after a confirmation that can be cancelled.
    await page.reload();
    await region(page, 'case.profile_title').getByText(NEW_DESCRIPTION, { exact: true }).waitFor();
    await access.getByText(text('family_account.status.active'), { exact: true }).waitFor();
    const remove = button(access, 'family_account.remove');
    await remove.click();
    const question = access.getByRole('heading', { name: text('family_account.remove_title') });
    await question.waitFor();
    assert.ok(await isFocused(question), 'focus moves to the question');
    await expectNoViolations(page, 'family case asking before removing access');
    await button(access, 'family_account.remove_cancel').click();
    assert.ok(await isFocused(remove), 'focus returns to the Remove button');

    await remove.click();
    await button(access, 'family_account.remove_confirm').click();
    await access
      .getByText(text('family_account.removed', { name: FAMILY.display_name }), { exact: true })
      .waitFor();
    await access.getByText(text('family_account.status.none'), { exact: true }).waitFor();
    await label(access, 'family_account.email_label').waitFor();

    // The family keeps its account but no longer has the profile.
    await fp.getByRole('link', { name: text('nav.family_profile'), exact: true }).click();
    await heading(fp, 'family_profile.title').waitFor();
    await fp.getByText(text('family_profile.empty'), { exact: true }).waitFor();
  });

  e2eTest(env, 'operator invites and approves first manager', async () => {
    const operator = await openSignedIn(env, 'platform_admin', { hasConversations: false });
    const { page } = operator;
    await openOrganisationCard(page, AGENCY);

    const form = region(page, 'admin_orgs.create_heading');
    await label(form, 'admin_orgs.name_label').fill(NEW_ORGANISATION);
    await form
      .getByLabel(text('codes.organisation_kind.independent_fostering_provider'), { exact: true })
      .check();
    await button(form, 'admin_orgs.create').click();
    await page
      .getByText(text('admin_orgs.created', { name: NEW_ORGANISATION }), { exact: true })
      .waitFor();
    const card = organisationCard(page, NEW_ORGANISATION);
    const none = text('first_manager.none', { organisation: NEW_ORGANISATION });
    await card.getByText(none, { exact: true }).waitFor();

    const invite = card.getByRole('button', {
      name: `${text('first_manager.invite')} ${NEW_ORGANISATION}`,
      exact: true,
    });
    await invite.click();
    const emailField = label(card, 'first_manager.email_label');
    assert.ok(await isFocused(emailField), 'focus moves to the email field');
    await expectNoViolations(page, 'first manager invitation form');
    await emailField.fill(MANAGER.email);
    await label(card, 'first_manager.name_label').fill(MANAGER.display_name);
    await button(card, 'first_manager.submit').click();
    await card
      .getByText(text('first_manager.sent', { email: MANAGER.email }), { exact: true })
      .waitFor();
    const waiting = `An invitation to ${MANAGER.display_name} (${MANAGER.email}) waits`;
    await card.getByText(waiting).waitFor();
    assert.equal(await invite.count(), 0, 'invite button while the invitation waits');
    await expectNoViolations(page, 'organisation with a waiting first manager invitation');

    // The invited manager sets a password and an authenticator app.
    const link = await invitationLink(env, MANAGER.email);
    const manager = await openPage(env, 'first manager');
    const mp = manager.page;
    await mp.goto(link);
    await heading(mp, 'invitation.greeting', { name: MANAGER.display_name }).waitFor();
    const intro = text('invitation.worker_intro.manager', { organisation: NEW_ORGANISATION });
    await mp.getByText(intro, { exact: true }).waitFor();
    await label(mp, 'invitation.password_label').fill(MANAGER.password);
    await label(mp, 'invitation.repeat_label').fill(MANAGER.password);
    await button(mp, 'invitation.continue').click();
    const key = mp.locator('code.enrolment__key');
    await key.waitFor();
    const secret = (await key.innerText()).replace(/\s+/g, '');
    await label(mp, 'invitation.totp_label').fill(await freshTotp(secret));
    await button(mp, 'invitation.submit').click();
    await heading(mp, 'invitation.recovery_title').waitFor();
    await button(mp, 'invitation.recovery_done').click();
    await heading(mp, 'invitation.worker_pending_title').waitFor();

    // The operator approves the manager, and the organisation is then its managers' to run.
    await page.reload();
    await organisationCard(page, NEW_ORGANISATION)
      .getByText(
        text('first_manager.pending', { name: MANAGER.display_name, email: MANAGER.email }),
        { exact: true },
      )
      .waitFor();
    await expectNoViolations(page, 'organisation with a first manager waiting for approval');
    const approve = `${text('first_manager.approve')} ${text('first_manager.approve_context', {
      name: MANAGER.display_name,
    })}`;
    await organisationCard(page, NEW_ORGANISATION)
      .getByRole('button', { name: approve, exact: true })
      .click();
    const approvedCard = organisationCard(page, NEW_ORGANISATION);
    const approved = text('first_manager.approved', {
      name: MANAGER.display_name,
      organisation: NEW_ORGANISATION,
    });
    await approvedCard.getByText(approved, { exact: true }).waitFor();
    await approvedCard
      .getByText(text('first_manager.founded', { organisation: NEW_ORGANISATION }), {
        exact: true,
      })
      .waitFor();
    assert.ok(
      await isFocused(approvedCard.getByRole('heading', { name: text('first_manager.title') })),
      'focus moves to the first manager heading after approving',
    );

    // The new manager signs in, with a code from a later time step, and
    // runs the organisation's workers.
    await signIn(env, manager, { ...MANAGER, totp_secret: secret }, { hasConversations: false });
    await mp
      .getByRole('navigation', { name: text('nav.label') })
      .getByRole('link', { name: text('nav.workers'), exact: true })
      .click();
    await heading(mp, 'workers.title').waitFor();
    const me = text('workers.name_you', { name: MANAGER.display_name });
    await mp.getByRole('heading', { name: me, exact: true }).waitFor();
  });
});
