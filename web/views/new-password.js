// The fields where someone chooses a new password and types it again, on
// the pages of invitation, application and account recovery links. The
// server's limits are checked before anything is sent.

import { focusElement } from '../dom.js';
import { t } from '../i18n.js';
import { describeError } from './common.js';
import { clearFieldError, field, showFieldError } from './fields.js';

// The server's limits on a new password: at least 12 characters and at
// most 1,024 bytes of UTF-8.
const PASSWORD_MIN_CHARS = 12;
const PASSWORD_MAX_BYTES = 1024;

/** Returns the catalogue key of what is wrong with a new password, or null. */
export function passwordProblem(password) {
  if (!password) return 'invitation.password_missing';
  if ([...password].length < PASSWORD_MIN_CHARS) return 'invitation.password_too_short';
  if (new TextEncoder().encode(password).length > PASSWORD_MAX_BYTES) {
    return 'invitation.password_too_long';
  }
  return null;
}

/** Returns the catalogue key of what is wrong with the repeated password, or null. */
export function repeatProblem(password, repeated) {
  if (!repeated) return 'invitation.repeat_missing';
  if (repeated !== password) return 'invitation.repeat_mismatch';
  return null;
}

/**
 * Creates the password and repeated password fields, whose ids are
 * `<idPrefix>-password` and `<idPrefix>-repeat`. `label` and `repeatLabel`
 * replace the invitation page's labels. `check()` clears the fields'
 * errors, shows what is wrong next to a field and focuses it, and returns
 * the password, or null when it cannot be used.
 */
export function newPasswordFields({
  idPrefix,
  label = t('invitation.password_label'),
  repeatLabel = t('invitation.repeat_label'),
}) {
  const passwordField = field({
    id: `${idPrefix}-password`,
    name: 'password',
    type: 'password',
    label,
    hint: t('invitation.password_hint'),
    attrs: { autocomplete: 'new-password' },
  });
  const repeatField = field({
    id: `${idPrefix}-repeat`,
    name: 'repeat_password',
    type: 'password',
    label: repeatLabel,
    attrs: { autocomplete: 'new-password' },
  });
  return {
    passwordField,
    repeatField,
    wrappers: [passwordField.wrapper, repeatField.wrapper],
    check() {
      clearFieldError(passwordField);
      clearFieldError(repeatField);
      const password = passwordField.input.value;
      const passwordKey = passwordProblem(password);
      const repeatKey = passwordKey ? null : repeatProblem(password, repeatField.input.value);
      if (passwordKey) showFieldError(passwordField, t(passwordKey));
      if (repeatKey) showFieldError(repeatField, t(repeatKey));
      if (!passwordKey && !repeatKey) return password;
      focusElement(passwordKey ? passwordField.input : repeatField.input);
      return null;
    },
    /** Shows the server's rejection of the password and focuses the field. */
    reject(error) {
      showFieldError(passwordField, describeError(error));
      focusElement(passwordField.input);
    },
  };
}
