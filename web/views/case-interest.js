// The Express interest area of a child case: how the child fits each of
// my organisation's family cases (for a child of another organisation),
// and a form that expresses one family's interest. The server then opens a
// discussion between the two organisations, which the page goes to.

import { expressInterest, fetchOwnCases } from '../api.js';
import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import { fitItem, fitsWithOwnCases } from './case-matches.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import { clearFieldError, selectField, showFieldError } from './fields.js';
import { caseTitle } from './family-finding.js';

/** Creates the form that expresses the interest of one of `families` in the child case `loaded`. */
function interestForm(ctx, loaded, families) {
  const alert = alertRegion();
  const family = selectField({
    id: 'interest-family',
    name: 'family_case_id',
    label: t('interest.family_label'),
    hint: t('interest.family_hint', { organisation: loaded.organisation?.name ?? '' }),
    options: families.map((own) => ({ value: own.id, label: caseTitle(own) })),
    prompt: t('case_form.choose'),
  });
  const submit = h('button', { type: 'submit', class: 'button', text: t('interest.submit') });
  const form = h(
    'form',
    { class: 'form', noValidate: true, attrs: { 'aria-labelledby': 'interest-heading' } },
    family.wrapper,
    submit,
  );

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    clearFieldError(family);
    alert.textContent = '';
    if (!family.input.value) {
      showFieldError(family, t('interest.family_missing'));
      focusElement(family.input);
      return;
    }
    busy = true;
    submit.disabled = true;
    try {
      const interest = await expressInterest(loaded.id, family.input.value);
      if (ctx.signal.aborted) return;
      location.hash = `#/conversations/${interest.conversation_id}`;
    } catch (error) {
      if (ctx.signal.aborted) return;
      if (error.code === 'request.invalid_field' && error.field === 'family_case_id') {
        showFieldError(family, t('interest.family_invalid'));
        focusElement(family.input);
      } else {
        // A 409 means an interest of this family in this child that has not
        // ended, as many such interests as the family may have, or a child
        // who is no longer waiting.
        alert.textContent =
          error.code === 'resource.conflict' ? t('interest.conflict') : describeError(error);
        focusElement(alert);
      }
    } finally {
      busy = false;
      submit.disabled = false;
    }
  });
  return h('div', {}, alert, form);
}

/**
 * Creates the Express interest area of `loaded`, a child case, and starts
 * loading my organisation's family cases with how each fits the child.
 */
export function interestArea(ctx, loaded) {
  const loading = statusRegion();
  const alert = alertRegion();
  const body = h('div', {});
  const element = h(
    'section',
    { class: 'ff-section', attrs: { 'aria-labelledby': 'interest-heading' } },
    h('h2', { id: 'interest-heading', text: t('interest.title') }),
    h('p', { text: t('interest.intro') }),
    loading,
    alert,
    body,
  );
  if (loaded.status !== 'active') {
    body.append(h('p', { text: t('interest.not_waiting') }));
    return { element };
  }
  loading.textContent = t('app.loading');
  // My own child case needs no explanation here: its matches are on the page.
  const families = loaded.own
    ? fetchOwnCases('family').then((list) => list.map((own) => ({ own, suggestion: null })))
    : fitsWithOwnCases(loaded);
  families
    .then((fits) => {
      if (ctx.signal.aborted) return;
      if (fits.length === 0) {
        body.append(h('p', { class: 'empty', text: t('interest.no_families') }));
        return;
      }
      if (!loaded.own) {
        body.append(
          h('h3', { id: 'fit-heading', text: t('matches.fit_title.family') }),
          h(
            'ul',
            { class: 'case-list', attrs: { 'aria-labelledby': 'fit-heading' } },
            fits.map((fit) => fitItem(fit, 'h4')),
          ),
        );
      }
      const active = fits.map((fit) => fit.own).filter((own) => own.status === 'active');
      body.append(interestForm(ctx, loaded, active));
    })
    .catch((error) => {
      if (!ctx.signal.aborted) alert.textContent = describeError(error);
    })
    .finally(() => {
      if (!ctx.signal.aborted) loading.textContent = '';
    });
  return { element };
}
