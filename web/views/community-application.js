// The fields of an application to the community, shared by the page of an
// application link and the form for people who already have an account.
// They are the display name other members see and, optionally, a partner
// organisation with the applicant's membership number there.

import { fetchPartners } from '../community-api.js';
import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import { charCount, DISPLAY_NAME_MAX_CHARS } from './community-parts.js';
import { clearFieldError, field, selectField, showFieldError } from './fields.js';

/** Catalogue keys of what the server rejects in each field. */
const FIELD_ERRORS = {
  display_name: 'community.apply.display_name_invalid',
  partner_id: 'community.apply.partner_invalid',
  membership_number: 'community.apply.number_invalid',
};

/** Returns the partners for the form, or an empty list when they cannot be loaded. */
export async function loadPartners() {
  try {
    return await fetchPartners();
  } catch (error) {
    // Naming a partner is optional, so the form works without the list.
    console.warn('community partners failed to load', error);
    return [];
  }
}

/**
 * Creates the application fields with ids starting `idPrefix`. `partners`
 * lists `{ id, name }`. Returns `{ wrappers, values(), showServerError(error) }`:
 * `values()` checks the display name, shows what is wrong and focuses it,
 * and returns the request's fields or null. `showServerError` places a
 * rejected field's error next to it and returns false for any other error.
 */
export function applicationFields(idPrefix, partners) {
  const nameField = field({
    id: `${idPrefix}-display-name`,
    name: 'display_name',
    label: t('community.apply.display_name_label'),
    hint: t('community.apply.display_name_hint', { max: DISPLAY_NAME_MAX_CHARS }),
    attrs: { autocomplete: 'off', maxlength: DISPLAY_NAME_MAX_CHARS },
  });
  const partnerField = selectField({
    id: `${idPrefix}-partner`,
    name: 'partner_id',
    label: t('community.apply.partner_label'),
    hint: t('community.apply.partner_hint'),
    prompt: t('community.apply.partner_none'),
    options: partners.map((partner) => ({ value: partner.id, label: partner.name })),
  });
  const numberField = field({
    id: `${idPrefix}-number`,
    name: 'membership_number',
    label: t('community.apply.number_label'),
    hint: t('community.apply.number_hint'),
    attrs: { autocomplete: 'off', spellcheck: 'false' },
  });
  numberField.input.classList.add('field__input--short');
  const controls = {
    display_name: nameField,
    partner_id: partnerField,
    membership_number: numberField,
  };

  return {
    wrappers: [nameField.wrapper, partnerField.wrapper, numberField.wrapper],
    values() {
      for (const control of Object.values(controls)) clearFieldError(control);
      const displayName = nameField.input.value.trim();
      const length = charCount(displayName);
      if (length === 0 || length > DISPLAY_NAME_MAX_CHARS) {
        const key =
          length === 0 ? 'community.apply.display_name_missing' : FIELD_ERRORS.display_name;
        showFieldError(nameField, t(key, { max: DISPLAY_NAME_MAX_CHARS }));
        focusElement(nameField.input);
        return null;
      }
      const values = { display_name: displayName };
      if (partnerField.input.value) values.partner_id = partnerField.input.value;
      const number = numberField.input.value.trim();
      if (number) values.membership_number = number;
      // The server checks a membership number only against a partner's list.
      if (number && !values.partner_id) {
        showFieldError(partnerField, t('community.apply.partner_for_number'));
        focusElement(partnerField.input);
        return null;
      }
      return values;
    },
    showServerError(error) {
      const control = controls[error?.field];
      if (error?.code !== 'request.invalid_field' || !control) return false;
      showFieldError(control, t(FIELD_ERRORS[error.field], { max: DISPLAY_NAME_MAX_CHARS }));
      focusElement(control.input);
      return true;
    },
  };
}

/** Creates the paragraphs that explain what the community is and what other members see. */
export function communityIntro() {
  return [
    h('p', { text: t('community.intro') }),
    h('p', { text: t('community.intro_privacy') }),
  ];
}
