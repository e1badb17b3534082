// The page that creates a child or family case (#/cases/new/child,
// #/cases/new/family) or edits one of my organisation's cases
// (#/cases/<id>/edit). A new case starts as a draft that only my
// organisation can read, and the case page publishes it. A problem the
// server finds is shown next to the field it names.
// A family who keeps its own profile edits it here too, when its
// organisation lets families edit their profiles, but not its approval.

import { createCase, fetchCase, saveCase } from '../api.js';
import { focusElement, h } from '../dom.js';
import { hasMessage, t } from '../i18n.js';
import { childCaseForm } from './child-case-form.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import { familyCaseForm } from './family-case-form.js';
import { casePage, isFamilyAccount, profileTitle, sectionPage } from './family-finding.js';

const KINDS = new Set(['child', 'family']);

/**
 * Returns the text of a failed save by a family, for the failures that
 * mean something else to a family than to a worker, or null.
 */
function familySaveProblem(error, organisation) {
  if (error.code === 'request.forbidden') {
    return t('case_form.family_forbidden', { organisation });
  }
  // The server compares the approval with the stored one before it looks
  // at the case's version, so a changed approval arrives as this error.
  const approvalField = error.field === 'approved_for' || error.field === 'approval_date';
  if (error.code === 'request.invalid_field' && approvalField) {
    return t('case_form.family_approval_changed', { organisation });
  }
  return null;
}

/** Returns the text for the server's `request.invalid_field` naming `fieldName`. */
function invalidFieldText(error) {
  const key = `case_form.invalid.${error.field}`;
  return hasMessage(key) ? t(key) : describeError(error);
}

async function loadExisting(panel, ctx, caseId) {
  const loading = statusRegion();
  panel.append(loading);
  loading.textContent = t('app.loading');
  try {
    const loaded = await fetchCase(caseId);
    if (ctx.signal.aborted) return null;
    loading.remove();
    if (!loaded.own && !isFamilyAccount(ctx.user)) {
      panel.append(h('p', { text: t('case_form.not_own') }));
      return null;
    }
    return loaded;
  } catch (error) {
    if (ctx.signal.aborted) return null;
    loading.textContent = '';
    const alert = alertRegion();
    panel.append(alert);
    alert.textContent = describeError(error);
    return null;
  }
}

export async function mount(main, ctx, [kindOrId]) {
  const creating = KINDS.has(kindOrId);
  // Families never create cases, so only editing has a page for them.
  const startPage = creating ? sectionPage : casePage;
  const panel = startPage(main, ctx, {
    title: creating ? t(`case_form.title_new.${kindOrId}`) : t('case_form.title_edit_loading'),
    current: '#/cases',
  });
  if (!panel) return;

  let existing = null;
  if (!creating) {
    existing = await loadExisting(panel, ctx, kindOrId);
    if (!existing) return;
    const title = t('case_form.title_edit', { title: profileTitle(existing) });
    ctx.setTitle(title);
    panel.querySelector('h1').textContent = title;
  }
  const kind = creating ? kindOrId : existing.kind;
  const family = !creating && isFamilyAccount(ctx.user);
  const organisation = existing?.organisation?.name ?? '';
  const fields =
    kind === 'child'
      ? childCaseForm(existing?.profile)
      : familyCaseForm(existing?.profile, { approvalReadOnly: family, organisation });

  const notice = statusRegion();
  const alert = alertRegion();
  const submit = h('button', {
    type: 'submit',
    class: 'button',
    text: t(creating ? 'case_form.create' : 'case_form.save'),
  });
  const cancelHref = creating ? '#/cases' : `#/cases/${existing.id}`;
  const form = h(
    'form',
    { class: 'case-form', noValidate: true, attrs: { 'aria-labelledby': 'case-form-heading' } },
    fields.element,
    h(
      'div',
      { class: 'actions' },
      submit,
      h('a', { href: cancelHref, class: 'button button--secondary', text: t('case_form.cancel') }),
    ),
  );
  panel.querySelector('h1').id = 'case-form-heading';
  let intro = t(creating ? 'case_form.intro_new' : 'case_form.intro_edit');
  if (family) intro = t('case_form.intro_family', { organisation });
  panel.append(
    h('p', { text: intro }),
    h('p', { class: 'field__hint', text: t('case_form.required_hint') }),
    notice,
    alert,
    form,
  );

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    alert.textContent = '';
    if (!fields.check()) return;
    busy = true;
    submit.disabled = true;
    notice.textContent = t('case_form.saving');
    try {
      const saved = creating
        ? await createCase(kind, fields.read())
        : await saveCase(existing.id, kind, fields.read(), existing.updated_at);
      if (ctx.signal.aborted) return;
      location.hash = `#/cases/${saved.id}`;
    } catch (error) {
      if (ctx.signal.aborted) return;
      notice.textContent = '';
      const familyProblem = family ? familySaveProblem(error, organisation) : null;
      if (familyProblem) {
        alert.textContent = familyProblem;
        focusElement(alert);
        return;
      }
      const shown =
        error.code === 'request.invalid_field' &&
        error.field &&
        fields.showServerError(error.field, invalidFieldText(error));
      if (!shown) {
        alert.textContent = describeError(error);
        focusElement(alert);
      }
    } finally {
      busy = false;
      submit.disabled = false;
    }
  });
}
