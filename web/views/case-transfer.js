// The Transfer area of a case, for managers of the owning organisation:
// the receiving organisation, the reference and date of the decision that
// approved the transfer, and a confirmation before it is sent. The
// receiving organisation's managers join the case's discussions and can
// read their whole history.

import { fetchOrganisationDirectory, transferCase } from '../api.js';
import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import { FormErrors, charCount, todayUtc } from './case-form-parts.js';
import { alertRegion, describeError } from './common.js';
import { field, selectField } from './fields.js';

const REFERENCE_MAX_CHARS = 100;

/**
 * Creates the Transfer area of `loaded`, titled `title`, and loads the
 * organisations to choose from. `onTransferred(transfer)` runs with the
 * server's record of the transfer.
 */
export function transferArea(ctx, loaded, title, onTransferred) {
  const errors = new FormErrors();
  const alert = alertRegion();
  const organisation = selectField({
    id: 'transfer-organisation',
    name: 'organisation_id',
    label: t('transfer.organisation_label'),
    options: [],
    prompt: t('case_form.choose'),
  });
  const reference = field({
    id: 'transfer-reference',
    name: 'approval_reference',
    label: t('transfer.reference_label'),
    hint: t('transfer.reference_hint'),
    attrs: { maxlength: REFERENCE_MAX_CHARS, autocomplete: 'off' },
  });
  const approvedOn = field({
    id: 'transfer-approved-on',
    name: 'approved_on',
    type: 'date',
    label: t('transfer.approved_on_label'),
    attrs: { max: todayUtc() },
  });
  approvedOn.input.classList.add('field__input--date');
  errors.addControl('organisation_id', organisation);
  errors.addControl('approval_reference', reference);
  errors.addControl('approved_on', approvedOn);

  const openButton = h('button', { type: 'submit', class: 'button', text: t('transfer.submit') });
  const form = h(
    'form',
    { class: 'form', noValidate: true, attrs: { 'aria-labelledby': 'transfer-heading' } },
    organisation.wrapper,
    reference.wrapper,
    approvedOn.wrapper,
    openButton,
  );

  const confirmHeading = h('h3', { id: 'transfer-confirm-heading', attrs: { tabindex: '-1' } });
  const confirmBody = h('p', {});
  const confirmButton = h('button', {
    type: 'button',
    class: 'button button--danger',
    text: t('transfer.confirm'),
  });
  const cancelButton = h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: t('transfer.cancel'),
  });
  const confirmation = h(
    'div',
    {
      class: 'callout callout--important',
      hidden: true,
      attrs: { role: 'group', 'aria-labelledby': confirmHeading.id },
    },
    confirmHeading,
    confirmBody,
    h('div', { class: 'actions' }, confirmButton, cancelButton),
  );

  fetchOrganisationDirectory()
    .then((directory) => {
      if (ctx.signal.aborted) return;
      organisation.input.append(
        ...directory.map((entry) => h('option', { value: entry.id, text: entry.name })),
      );
    })
    .catch((error) => {
      if (!ctx.signal.aborted) alert.textContent = describeError(error);
    });

  const values = () => ({
    organisationId: organisation.input.value,
    organisationName: organisation.input.selectedOptions[0]?.textContent ?? '',
    reference: reference.input.value.trim(),
    approvedOn: approvedOn.input.value,
  });

  function check({ organisationId, reference: text, approvedOn: date }) {
    errors.clear();
    const problems = [];
    if (!organisationId) problems.push(['organisation_id', t('transfer.organisation_missing')]);
    if (!text) problems.push(['approval_reference', t('transfer.reference_missing')]);
    else if (charCount(text) > REFERENCE_MAX_CHARS) {
      problems.push(['approval_reference', t('transfer.reference_long')]);
    }
    if (!date) problems.push(['approved_on', t('transfer.approved_on_missing')]);
    else if (date > todayUtc()) problems.push(['approved_on', t('transfer.approved_on_future')]);
    errors.show(problems);
    return problems.length === 0;
  }

  const closeConfirmation = () => {
    confirmation.hidden = true;
    form.hidden = false;
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    alert.textContent = '';
    const chosen = values();
    if (!check(chosen)) return;
    confirmHeading.textContent = t('transfer.confirm_title', {
      title,
      organisation: chosen.organisationName,
    });
    confirmBody.textContent = t('transfer.confirm_body', { organisation: chosen.organisationName });
    form.hidden = true;
    confirmation.hidden = false;
    focusElement(confirmHeading);
  });

  cancelButton.addEventListener('click', () => {
    closeConfirmation();
    focusElement(openButton);
  });

  let busy = false;
  confirmButton.addEventListener('click', async () => {
    if (busy) return;
    busy = true;
    confirmButton.disabled = true;
    const chosen = values();
    try {
      const transfer = await transferCase(
        loaded.id,
        chosen.organisationId,
        chosen.reference,
        chosen.approvedOn,
      );
      if (ctx.signal.aborted) return;
      onTransferred(transfer);
    } catch (error) {
      if (ctx.signal.aborted) return;
      closeConfirmation();
      const shown =
        error.code === 'request.invalid_field' &&
        errors.has(error.field) &&
        errors.show([[error.field, t(`transfer.invalid.${error.field}`)]]);
      if (!shown) {
        let text = describeError(error);
        if (error.code === 'request.forbidden') text = t('transfer.forbidden');
        // A 409 means no active manager at the receiving organisation, or a
        // case or discussion that another request changed meanwhile.
        if (error.code === 'resource.conflict') text = t('transfer.conflict');
        alert.textContent = text;
        focusElement(alert);
      }
    } finally {
      busy = false;
      confirmButton.disabled = false;
    }
  });

  const element = h(
    'section',
    { class: 'ff-section', attrs: { 'aria-labelledby': 'transfer-heading' } },
    h('h2', { id: 'transfer-heading', text: t('transfer.title') }),
    h('p', { text: t('transfer.intro') }),
    alert,
    form,
    confirmation,
  );
  return { element };
}
