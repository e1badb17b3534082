// "Membership list" (#/community/moderation/membership-list), for
// moderators: uploads my partner's list of members as a CSV file whose
// first line is `membership_number,email`. The list replaces the one
// before it, and every waiting applicant it matches is verified at once.
// The page shows how many entries the list has and how many applicants it
// verified, or which line of the file the server rejected.

import { uploadMembershipList } from '../community-api.js';
import { focusElement, h } from '../dom.js';
import { t, tPlural } from '../i18n.js';
import { communityPage } from './community-parts.js';
import { describeError, statusRegion } from './common.js';
import { clearFieldError, field, showFieldError } from './fields.js';

/** The maximum size of a list that the server accepts, 5 MiB. */
const MAX_LIST_BYTES = 5 * 1024 * 1024;
const MAX_LIST_MIB = 5;

/**
 * Returns the number of the line that the server's message about a
 * rejected list names, such as 4 in "line 4: membership number ASN-7
 * appears again", or null.
 */
function rejectedLine(error) {
  const match = /\bline (\d+)/i.exec(error.detail ?? '');
  return match ? Number(match[1]) : null;
}

/**
 * Returns catalogue text for a rejected upload. The server names a line
 * for a problem in the file, and the limit for a file that is too large.
 */
function uploadErrorText(error) {
  if (error.status === 413) return t('community.list.too_large', { max: MAX_LIST_MIB });
  if (error.code !== 'request.invalid_field' || error.field !== 'membership_list') {
    return describeError(error);
  }
  const line = rejectedLine(error);
  if (line !== null) return t('community.list.invalid_line', { line });
  if (/\blimit\b/i.test(error.detail ?? '')) {
    return t('community.list.too_large', { max: MAX_LIST_MIB });
  }
  return t('community.list.invalid');
}

export async function mount(main, ctx) {
  const page = await communityPage(main, ctx, {
    title: t('community.list.title'),
    current: '#/community/moderation/membership-list',
    moderatorsOnly: true,
  });
  if (!page) return;
  const { panel, membership } = page;
  // A moderator's organisation is their partner.
  const partnerId = ctx.user.organisation_id ?? membership.partner?.id ?? null;
  if (!partnerId) {
    panel.append(h('p', { text: t('community.list.no_partner') }));
    return;
  }

  const notice = statusRegion();
  const fileField = field({
    id: 'community-list-file',
    name: 'membership_list',
    type: 'file',
    label: t('community.list.file_label'),
    hint: t('community.list.file_hint', { max: MAX_LIST_MIB }),
    attrs: { accept: '.csv,text/csv' },
  });
  const submit = h('button', {
    type: 'submit',
    class: 'button',
    text: t('community.list.submit'),
  });
  const form = h(
    'form',
    { class: 'form', noValidate: true, attrs: { 'aria-labelledby': 'community-list-form' } },
    fileField.wrapper,
    h('div', { class: 'actions' }, submit),
  );

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    notice.textContent = '';
    clearFieldError(fileField);
    const file = fileField.input.files?.[0];
    if (!file) {
      showFieldError(fileField, t('community.list.file_missing'));
      focusElement(fileField.input);
      return;
    }
    if (file.size > MAX_LIST_BYTES) {
      showFieldError(fileField, t('community.list.too_large', { max: MAX_LIST_MIB }));
      focusElement(fileField.input);
      return;
    }

    busy = true;
    submit.disabled = true;
    try {
      const result = await uploadMembershipList(partnerId, await file.text());
      if (ctx.signal.aborted) return;
      form.reset();
      notice.textContent = [
        tPlural('community.list.entries', result?.entries ?? 0),
        tPlural('community.list.verified', result?.verified ?? 0),
      ].join(' ');
      focusElement(notice);
    } catch (error) {
      if (ctx.signal.aborted) return;
      showFieldError(fileField, uploadErrorText(error));
      focusElement(fileField.input);
    } finally {
      busy = false;
      submit.disabled = false;
    }
  });

  panel.append(
    h('p', { text: t('community.list.intro') }),
    h('p', { text: t('community.list.format') }),
    h('pre', { class: 'community-list__example', text: t('community.list.example') }),
    h('p', { text: t('community.list.replaces') }),
    h(
      'section',
      { class: 'community__section', attrs: { 'aria-labelledby': 'community-list-form' } },
      h('h2', { id: 'community-list-form', text: t('community.list.form_heading') }),
      notice,
      form,
    ),
  );
}
