// The Publication area of one of my organisation's cases: who can read it now,
// and a form that keeps it a draft, publishes it to every organisation
// with an active licence, or to organisations chosen from the directory,
// with or without the names.

import { fetchOrganisationDirectory, publishCase } from '../api.js';
import { focusElement, h } from '../dom.js';
import { currentLanguage, t } from '../i18n.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import { checkboxField, fieldGroup, radioGroup } from './fields.js';

const VISIBILITIES = ['draft', 'all', 'named'];

/** Describes who can read `loaded` now, in one or two sentences. */
function currentText(loaded) {
  let text;
  if (loaded.visibility === 'all') text = t('publication.now.all');
  else if (loaded.visibility === 'named') {
    const names = (loaded.shared_with ?? []).map((organisation) => organisation.name);
    const list = new Intl.ListFormat(currentLanguage(), { type: 'conjunction' }).format(names);
    text = t('publication.now.named', { organisations: list });
  } else {
    text = t('publication.now.draft', { organisation: loaded.organisation?.name ?? '' });
  }
  if (loaded.visibility !== 'draft' && loaded.anonymous) {
    text = `${text} ${t('publication.now.anonymous')}`;
  }
  return text;
}

/**
 * Creates the Publication area of `loaded`, a case of my organisation.
 * Returns `{ element }` and starts loading the directory.
 */
export function publicationArea(ctx, loaded) {
  const headingId = 'publication-heading';
  const now = h('p', { class: 'publication__now', text: currentText(loaded) });
  /** The case's version the next change is based on. */
  let version = loaded.updated_at;
  const notice = statusRegion();
  const alert = alertRegion();

  const visibility = radioGroup({
    id: 'publication-visibility',
    name: 'visibility',
    legend: t('publication.visibility_legend'),
    choices: VISIBILITIES.map((value) => ({ value, label: t(`publication.choice.${value}`) })),
  });
  visibility.value = loaded.visibility;
  const organisationList = h('div', {});
  const organisations = fieldGroup({
    id: 'publication-organisations',
    legend: t('publication.organisations_legend'),
    hint: t('publication.organisations_hint'),
    className: 'field group choices',
    children: [organisationList],
  });
  const anonymous = checkboxField({
    id: 'publication-anonymous',
    name: 'anonymous',
    label: t('publication.anonymous_label'),
    hint: t('publication.anonymous_hint'),
  });
  anonymous.input.checked = Boolean(loaded.anonymous);
  const submit = h('button', { type: 'submit', class: 'button', text: t('publication.save') });
  const form = h(
    'form',
    { class: 'form', noValidate: true, attrs: { 'aria-labelledby': headingId } },
    visibility.wrapper,
    organisations.wrapper,
    anonymous.wrapper,
    submit,
  );

  let boxes = [];
  const shared = new Set((loaded.shared_with ?? []).map((organisation) => organisation.id));
  const showOrganisations = () => {
    organisations.wrapper.hidden = visibility.value !== 'named';
  };
  for (const radio of visibility.radios) radio.addEventListener('change', showOrganisations);
  showOrganisations();

  fetchOrganisationDirectory()
    .then((directory) => {
      if (ctx.signal.aborted) return;
      boxes = directory.map((organisation) => {
        const box = checkboxField({
          id: `publication-organisation-${organisation.id}`,
          name: 'organisations',
          label: organisation.name,
        });
        box.input.value = organisation.id;
        box.input.checked = shared.has(organisation.id);
        return box;
      });
      organisationList.replaceChildren(...boxes.map((box) => box.wrapper));
      if (boxes.length === 0) {
        organisationList.append(h('p', { class: 'empty', text: t('publication.directory_empty') }));
      }
    })
    .catch((error) => {
      if (!ctx.signal.aborted) organisations.showError(describeError(error));
    });

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    notice.textContent = '';
    alert.textContent = '';
    visibility.clearError();
    organisations.clearError();
    const chosen = boxes.filter((box) => box.input.checked).map((box) => box.input.value);
    if (visibility.value === 'named' && chosen.length === 0) {
      organisations.showError(t('publication.organisations_missing'));
      organisations.focus();
      return;
    }
    busy = true;
    submit.disabled = true;
    try {
      const updated = await publishCase(
        loaded.id,
        visibility.value,
        chosen,
        anonymous.input.checked,
        version,
      );
      if (ctx.signal.aborted) return;
      version = updated.updated_at;
      now.textContent = currentText(updated);
      notice.textContent = t('publication.saved');
    } catch (error) {
      if (ctx.signal.aborted) return;
      const text = describeError(error);
      if (error.code === 'request.invalid_field' && error.field === 'organisations') {
        organisations.showError(t('publication.organisations_invalid'));
        organisations.focus();
      } else if (error.code === 'request.invalid_field' && error.field === 'visibility') {
        visibility.showError(text);
        visibility.focus();
      } else {
        alert.textContent = text;
        focusElement(alert);
      }
    } finally {
      busy = false;
      submit.disabled = false;
    }
  });

  const element = h(
    'section',
    { class: 'ff-section', attrs: { 'aria-labelledby': headingId } },
    h('h2', { id: headingId, text: t('publication.title') }),
    now,
    notice,
    alert,
    form,
  );
  return { element };
}
