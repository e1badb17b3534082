// The form of an organisation's terms in the admin area: name, kind (when
// creating, because it cannot change), licence start and expiry dates,
// retention period in days, and whether its families may edit their own
// profiles. The server stores the dates as times, and the form sends
// midnight UTC of the chosen day.

import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import { FormErrors, charCount, readWholeNumber, wholeNumberField } from './case-form-parts.js';
import { alertRegion, describeError } from './common.js';
import { checkboxField, field, radioGroup } from './fields.js';
import { ORGANISATION_KINDS, codeLabel } from './family-finding.js';

const NAME_MAX_CHARS = 120;
const MIN_RETENTION_DAYS = 365;
const MAX_RETENTION_DAYS = 3650;
const DEFAULT_RETENTION_DAYS = 1095;

/** Returns the `YYYY-MM-DD` day, in UTC, of an RFC 3339 time, or '' for none. */
export function dayOf(time) {
  return time ? String(time).slice(0, 10) : '';
}

function timeOf(day) {
  return day ? `${day}T00:00:00Z` : null;
}

/**
 * Creates an organisation form with ids starting `idPrefix`, filled from
 * `organisation` when given. `withKind` adds the kind choice. `onSubmit(body)`
 * sends the body and resolves once it is stored. Returns `{ element,
 * focus() }`.
 */
export function organisationForm({
  idPrefix,
  organisation = {},
  withKind,
  submitLabel,
  onSubmit,
  onCancel,
}) {
  const errors = new FormErrors();
  const alert = alertRegion();
  const name = field({
    id: `${idPrefix}-name`,
    name: 'name',
    label: t('admin_orgs.name_label'),
    attrs: { maxlength: NAME_MAX_CHARS, autocomplete: 'off' },
  });
  name.input.value = organisation.name ?? '';
  const kind = withKind
    ? radioGroup({
        id: `${idPrefix}-kind`,
        name: `${idPrefix}-kind`,
        legend: t('admin_orgs.kind_legend'),
        choices: ORGANISATION_KINDS.map((value) => ({
          value,
          label: codeLabel('organisation_kind', value),
        })),
      })
    : null;
  const starts = field({
    id: `${idPrefix}-starts`,
    name: 'licence_starts_at',
    type: 'date',
    label: t('admin_orgs.starts_label'),
    hint: t('admin_orgs.starts_hint'),
  });
  starts.input.classList.add('field__input--date');
  starts.input.value = dayOf(organisation.licence_starts_at);
  const expires = field({
    id: `${idPrefix}-expires`,
    name: 'licence_expires_at',
    type: 'date',
    label: t('admin_orgs.expires_label'),
    hint: t('admin_orgs.expires_hint'),
  });
  expires.input.classList.add('field__input--date');
  expires.input.value = dayOf(organisation.licence_expires_at);
  const retention = wholeNumberField({
    id: `${idPrefix}-retention`,
    name: 'retention_days',
    label: t('admin_orgs.retention_label'),
    hint: t('admin_orgs.retention_hint'),
    min: MIN_RETENTION_DAYS,
    max: MAX_RETENTION_DAYS,
    value: organisation.retention_days ?? DEFAULT_RETENTION_DAYS,
  });
  const familiesEdit = checkboxField({
    id: `${idPrefix}-families-edit`,
    name: 'families_edit_profiles',
    label: t('admin_orgs.families_edit_label'),
    hint: t('admin_orgs.families_edit_hint'),
  });
  familiesEdit.input.checked = Boolean(organisation.families_edit_profiles);

  errors.addControl('name', name);
  if (kind) errors.addGroup('kind', kind);
  errors.addControl('licence_starts_at', starts);
  errors.addControl('licence_expires_at', expires);
  errors.addControl('retention_days', retention);

  const submit = h('button', { type: 'submit', class: 'button', text: submitLabel });
  const buttons = h('div', { class: 'actions' }, submit);
  if (onCancel) {
    buttons.append(
      h('button', {
        type: 'button',
        class: 'button button--secondary',
        text: t('admin_orgs.cancel'),
        on: { click: onCancel },
      }),
    );
  }
  const form = h(
    'form',
    { class: 'form', noValidate: true },
    alert,
    name.wrapper,
    kind?.wrapper,
    starts.wrapper,
    expires.wrapper,
    retention.wrapper,
    familiesEdit.wrapper,
    buttons,
  );

  function check() {
    errors.clear();
    const problems = [];
    const text = name.input.value.trim();
    if (!text) problems.push(['name', t('admin_orgs.name_missing')]);
    else if (charCount(text) > NAME_MAX_CHARS || /[\r\n]/.test(text)) {
      problems.push(['name', t('admin_orgs.name_invalid')]);
    }
    if (kind && !kind.value) problems.push(['kind', t('admin_orgs.kind_missing')]);
    if (starts.input.value && expires.input.value && expires.input.value <= starts.input.value) {
      problems.push(['licence_expires_at', t('admin_orgs.expires_before_start')]);
    }
    if (readWholeNumber(retention.input, MIN_RETENTION_DAYS, MAX_RETENTION_DAYS) === null) {
      problems.push(['retention_days', t('admin_orgs.retention_invalid')]);
    }
    errors.show(problems);
    return problems.length === 0;
  }

  function body() {
    const values = {
      name: name.input.value.trim(),
      licence_starts_at: timeOf(starts.input.value),
      licence_expires_at: timeOf(expires.input.value),
      retention_days: readWholeNumber(retention.input, MIN_RETENTION_DAYS, MAX_RETENTION_DAYS),
      families_edit_profiles: familiesEdit.input.checked,
    };
    if (kind) values.kind = kind.value;
    return values;
  }

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    alert.textContent = '';
    if (!check()) return;
    busy = true;
    submit.disabled = true;
    try {
      await onSubmit(body());
      if (withKind) {
        form.reset();
        retention.input.value = String(DEFAULT_RETENTION_DAYS);
      }
    } catch (error) {
      const key = `admin_orgs.invalid.${error.field}`;
      const shown =
        error.code === 'request.invalid_field' &&
        errors.has(error.field) &&
        errors.show([[error.field, t(key)]]);
      if (!shown) {
        alert.textContent = describeError(error);
        focusElement(alert);
      }
    } finally {
      busy = false;
      submit.disabled = false;
    }
  });

  return { element: form, focus: () => focusElement(name.input) };
}
