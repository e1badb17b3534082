// Setting up an authenticator app with a key the server offers, and the
// recovery codes the server returns once, after it accepts the app's first
// code. A worker's invitation page and the account recovery page share
// these parts.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { statusRegion } from './common.js';
import { copyButton } from './copy-button.js';
import { field } from './fields.js';

const TOTP_CODE = /^\d{6}$/;

/** Returns the catalogue key of what is wrong with a typed code from the app, or null. */
export function codeProblem(code) {
  if (!code) return 'second_factor.totp_missing';
  if (!TOTP_CODE.test(code)) return 'second_factor.totp_format';
  return null;
}

/** Writes an authenticator key in groups of four characters, as apps show them. */
function groupedKey(secret) {
  const compact = String(secret).replace(/\s+/g, '');
  return (compact.match(/.{1,4}/g) ?? []).join(' ');
}

/**
 * Creates the numbered steps that add a key to an app by hand, ending
 * with `lastStep`, the text of the step that sends the app's code.
 */
export function setupSteps(lastStep) {
  const steps = ['open', 'manual', 'type'].map((step) => t(`invitation.key_step.${step}`));
  return h(
    'ol',
    { class: 'invitation__steps' },
    [...steps, lastStep].map((step) => h('li', { text: step })),
  );
}

/**
 * Creates the box that shows an offered key in groups of four, with a
 * button that copies it and one that requests a new key by calling
 * `onNewKey()`. The box stays hidden until `show(offered)` fills it with
 * `{ secret, account_name, issuer }`. Ids start with `idPrefix`.
 */
export function authenticatorKeyBox({ idPrefix, onNewKey }) {
  let secret = '';
  const keyCode = h('code', { class: 'enrolment__key' });
  const accountLine = h('p', { class: 'enrolment__account' });
  const copyStatus = statusRegion();
  const copy = copyButton({
    label: t('invitation.key_copy'),
    text: () => secret,
    source: keyCode,
    status: copyStatus,
    copiedKey: 'invitation.key_copied',
    failedKey: 'invitation.key_copy_failed',
  });
  const newKeyHintId = `${idPrefix}-key-new-hint`;
  const newKey = h('button', {
    type: 'button',
    class: 'button button--link',
    text: t('invitation.key_new'),
    attrs: { 'aria-describedby': newKeyHintId },
    on: { click: () => onNewKey() },
  });
  const element = h(
    'div',
    { class: 'enrolment', hidden: true },
    h('p', { class: 'field__label', text: t('invitation.key_label') }),
    h('p', { class: 'enrolment__key-line' }, keyCode),
    accountLine,
    h('div', { class: 'actions' }, copy),
    copyStatus,
    h('div', { class: 'actions actions--stacked' }, newKey),
    h('p', { class: 'field__hint', id: newKeyHintId, text: t('invitation.key_new_hint') }),
  );
  return {
    element,
    show(offered) {
      secret = offered.secret;
      keyCode.textContent = groupedKey(offered.secret);
      accountLine.textContent = t('invitation.key_account', {
        issuer: offered.issuer,
        account: offered.account_name,
      });
      element.hidden = false;
    },
    /** Empties the line that reports whether copying worked. */
    clearStatus() {
      copyStatus.textContent = '';
    },
  };
}

/** Creates the field for the app's 6-digit code, with the number keyboard on phones. */
export function totpCodeField(id) {
  const codeField = field({
    id,
    name: 'totp_code',
    label: t('invitation.totp_label'),
    hint: t('invitation.totp_hint'),
    attrs: { autocomplete: 'one-time-code', inputmode: 'numeric', spellcheck: 'false' },
  });
  codeField.input.classList.add('field__input--short');
  return codeField;
}

/**
 * Creates the parts of a page that shows new recovery codes, once: what
 * they are for, a warning to store them, the list under an h2 with the id
 * `recovery-codes-heading`, and a button that copies them.
 */
export function recoveryCodeParts(codes) {
  const copyStatus = statusRegion();
  const list = h(
    'ol',
    { class: 'recovery-codes', attrs: { 'aria-labelledby': 'recovery-codes-heading' } },
    codes.map((code) => h('li', {}, h('code', { text: code }))),
  );
  const copy = copyButton({
    label: t('invitation.recovery_copy'),
    text: () => codes.join('\n'),
    source: list,
    status: copyStatus,
    copiedKey: 'invitation.recovery_copied',
    failedKey: 'invitation.recovery_copy_failed',
  });
  return [
    h('p', { text: t('invitation.recovery_intro') }),
    h(
      'div',
      { class: 'callout callout--important' },
      h('p', { text: t('invitation.recovery_store') }),
    ),
    h('h2', { id: 'recovery-codes-heading', text: t('invitation.recovery_list') }),
    list,
    h('div', { class: 'actions' }, copy),
    copyStatus,
  ];
}
