// The page an invitation email links to, `/invitation#TOKEN`. The router
// takes the token out of the address bar before this view mounts and
// passes it in. The page greets the invited person by name and lets them
// choose a password. News about KinLink by email is their choice, off
// unless they tick it. A link that is used, expired or not recognised gets
// a page of its own with no form.
//
// A family member invited into a contact link then reads that their
// account waits for the practitioner who invited them to confirm who they
// are. A family invited to keep its own profile (`kind: "family_profile"`)
// accepts the same way, with texts about the profile.
// A worker invited by a manager also sets up an authenticator app.
// The page requests a key from the server once, shows it to be typed into
// the app by hand, and sends the app's code with the password. The server
// returns the account's recovery codes once, and the page shows them until
// the worker confirms that they have stored them. Their account then waits
// for a manager's approval.

import { acceptInvitation, enrolInvitation, openInvitation } from '../api.js';
import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import { alertRegion, describeError, pageHeading, statusRegion } from './common.js';
import { checkboxField, clearFieldError, field, showFieldError } from './fields.js';

/** Error codes of a link that cannot be used, each with a page of its own. */
const UNUSABLE = new Set(['invitation.used', 'invitation.expired', 'invitation.unknown']);

// The server's limits on a new password: at least 12 characters and at
// most 1,024 bytes of UTF-8.
const PASSWORD_MIN_CHARS = 12;
const PASSWORD_MAX_BYTES = 1024;

const TOTP_CODE = /^\d{6}$/;
/** The roles a worker can be invited to, each with its own sentence. */
const WORKER_ROLES = new Set(['practitioner', 'manager']);

/** Sign-in lives on the root page, because this page's own hash routes nowhere. */
const SIGN_IN_HREF = '/#/sign-in';

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

function codeProblem(code) {
  if (!code) return 'second_factor.totp_missing';
  if (!TOTP_CODE.test(code)) return 'second_factor.totp_format';
  return null;
}

/** Writes an authenticator key in groups of four characters, as apps show them. */
function groupedKey(secret) {
  const compact = String(secret).replace(/\s+/g, '');
  return (compact.match(/.{1,4}/g) ?? []).join(' ');
}

function signInLink() {
  return h('p', {}, h('a', { href: SIGN_IN_HREF, text: t('invitation.sign_in_link') }));
}

/** Selects the text of `element`, so that it can be copied by keyboard. */
function selectContents(element) {
  const range = document.createRange();
  range.selectNodeContents(element);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

/**
 * Creates a button that copies `text()` to the clipboard and reports the
 * outcome in `status`. Where the browser does not allow copying, the
 * button selects the text of `source` instead and reports that.
 */
function copyButton({ label, text, source, status, copiedKey, failedKey }) {
  return h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: label,
    on: {
      click: async () => {
        status.textContent = '';
        try {
          await navigator.clipboard.writeText(text());
          status.textContent = t(copiedKey);
        } catch {
          selectContents(source);
          status.textContent = t(failedKey);
        }
      },
    },
  });
}

/**
 * Creates the password, repeated password and news fields. `check()`
 * clears their errors, shows what is wrong next to the field and focuses
 * it, and returns the password, or null when it cannot be used.
 */
function passwordFields() {
  const passwordField = field({
    id: 'invitation-password',
    name: 'password',
    type: 'password',
    label: t('invitation.password_label'),
    hint: t('invitation.password_hint'),
    attrs: { autocomplete: 'new-password' },
  });
  const repeatField = field({
    id: 'invitation-repeat',
    name: 'repeat_password',
    type: 'password',
    label: t('invitation.repeat_label'),
    attrs: { autocomplete: 'new-password' },
  });
  const marketing = checkboxField({
    id: 'invitation-marketing',
    name: 'marketing',
    label: t('invitation.marketing_label'),
    hint: t('invitation.marketing_hint'),
  });
  return {
    passwordField,
    marketing,
    wrappers: [passwordField.wrapper, repeatField.wrapper, marketing.wrapper],
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

export async function mount(main, ctx, [token]) {
  ctx.setTitle(t('invitation.title'));
  const section = h('section', {
    class: 'panel panel--narrow invitation',
    attrs: { 'aria-labelledby': 'invitation-title' },
  });
  main.append(section);

  /** Replaces the page's content, with `title` as its h1, and focuses it when asked. */
  function show(title, children, { focus = false } = {}) {
    const heading = pageHeading(title, 'invitation-title');
    ctx.setTitle(title);
    section.replaceChildren(heading, ...children);
    if (focus) focusElement(heading);
  }

  /** Shows the page of a link that is used, expired or not recognised. */
  function showUnusable(code, options) {
    const kind = code.slice('invitation.'.length);
    const children = [h('p', { text: t(`invitation.${kind}_body`) })];
    if (kind === 'used') children.push(signInLink());
    show(t(`invitation.${kind}_title`), children, options);
  }

  function showPending(name, family) {
    show(
      t('invitation.pending_title'),
      [
        h('p', { text: t('invitation.pending_thanks', { name }) }),
        h('p', { text: t(family ? 'invitation.family_pending_next' : 'invitation.pending_next') }),
        signInLink(),
      ],
      { focus: true },
    );
  }

  /** Shows the password form of a contact-link or a family-profile invitation. */
  function showForm(invitation) {
    const name = invitation.display_name;
    const family = invitation.kind === 'family_profile';
    const alert = alertRegion();
    const passwords = passwordFields();
    const submit = h('button', { type: 'submit', class: 'button', text: t('invitation.submit') });
    const form = h(
      'form',
      { class: 'form', noValidate: true, attrs: { 'aria-labelledby': 'invitation-title' } },
      passwords.wrappers,
      submit,
    );

    let busy = false;
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (busy) return;
      alert.textContent = '';
      const password = passwords.check();
      if (password === null) return;

      busy = true;
      submit.disabled = true;
      try {
        await acceptInvitation(token, password, passwords.marketing.input.checked);
        if (ctx.signal.aborted) return;
        token = null;
        showPending(name, family);
      } catch (error) {
        if (ctx.signal.aborted) return;
        if (UNUSABLE.has(error.code)) {
          showUnusable(error.code, { focus: true });
        } else if (error.code === 'request.invalid_field' && error.field === 'password') {
          passwords.reject(error);
        } else if (error.code === 'resource.conflict') {
          // A family's invitation also fails when its profile got another
          // account or moved to another organisation meanwhile.
          const key = family ? 'invitation.family_conflict' : 'invitation.account_exists';
          alert.textContent = t(key);
        } else {
          alert.textContent = describeError(error);
        }
      } finally {
        busy = false;
        submit.disabled = false;
      }
    });

    show(t('invitation.greeting', { name }), [
      h('p', { text: t(family ? 'invitation.family_intro' : 'invitation.intro') }),
      h('p', { text: t('invitation.sign_in_later') }),
      alert,
      form,
    ]);
  }

  function showWorkerPending(invitation) {
    show(
      t('invitation.worker_pending_title'),
      [
        h('p', { text: t('invitation.worker_pending_thanks', { name: invitation.display_name }) }),
        h('p', {
          text: t('invitation.worker_pending_next', {
            organisation: invitation.organisation_name,
          }),
        }),
        signInLink(),
      ],
      { focus: true },
    );
  }

  /** Shows the recovery codes, once, until the worker confirms that they have stored them. */
  function showRecoveryCodes(invitation, codes) {
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
    const done = h('button', {
      type: 'button',
      class: 'button',
      text: t('invitation.recovery_done'),
      on: { click: () => showWorkerPending(invitation) },
    });
    show(
      t('invitation.recovery_title'),
      [
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
        h('div', { class: 'actions' }, done),
      ],
      { focus: true },
    );
  }

  /**
   * Shows the worker's form: a password first, then, once it is fine, the
   * authenticator key and the app's code. Both parts stay in one form, so
   * a rejected code leaves the passwords as they were typed.
   */
  function showWorkerForm(invitation) {
    const alert = alertRegion();
    const passwords = passwordFields();
    const continueButton = h('button', {
      type: 'submit',
      class: 'button',
      text: t('invitation.continue'),
    });

    const keyHeading = h('h2', {
      id: 'invitation-key-heading',
      text: t('invitation.key_heading'),
      attrs: { tabindex: '-1' },
    });
    const keyStatus = statusRegion();
    const keyAlert = alertRegion();
    const retryKey = h('button', {
      type: 'button',
      class: 'button',
      text: t('invitation.key_retry'),
      on: { click: () => requestKey({ retry: true }) },
    });
    const retryActions = h('div', { class: 'actions', hidden: true }, retryKey);
    const keyCode = h('code', { class: 'enrolment__key' });
    const accountLine = h('p', { class: 'enrolment__account' });
    const copyStatus = statusRegion();
    const copy = copyButton({
      label: t('invitation.key_copy'),
      text: () => enrolment?.secret ?? '',
      source: keyCode,
      status: copyStatus,
      copiedKey: 'invitation.key_copied',
      failedKey: 'invitation.key_copy_failed',
    });
    const newKey = h('button', {
      type: 'button',
      class: 'button button--link',
      text: t('invitation.key_new'),
      attrs: { 'aria-describedby': 'invitation-key-new-hint' },
      on: { click: () => requestKey({ replace: true }) },
    });
    const keyBox = h(
      'div',
      { class: 'enrolment', hidden: true },
      h('p', { class: 'field__label', text: t('invitation.key_label') }),
      h('p', { class: 'enrolment__key-line' }, keyCode),
      accountLine,
      h('div', { class: 'actions' }, copy),
      copyStatus,
      h('div', { class: 'actions actions--stacked' }, newKey),
      h('p', {
        class: 'field__hint',
        id: 'invitation-key-new-hint',
        text: t('invitation.key_new_hint'),
      }),
    );
    const codeField = field({
      id: 'invitation-totp',
      name: 'totp_code',
      label: t('invitation.totp_label'),
      hint: t('invitation.totp_hint'),
      attrs: { autocomplete: 'one-time-code', inputmode: 'numeric', spellcheck: 'false' },
    });
    codeField.input.classList.add('field__input--short');
    const accept = h('button', { type: 'submit', class: 'button', text: t('invitation.submit') });
    const codePart = h('div', { class: 'form', hidden: true }, codeField.wrapper, accept);
    const keyStep = h(
      'div',
      { class: 'invitation__step', hidden: true },
      keyHeading,
      h('p', { text: t('invitation.key_intro') }),
      h(
        'ol',
        { class: 'invitation__steps' },
        ['open', 'manual', 'type', 'code'].map((step) =>
          h('li', { text: t(`invitation.key_step.${step}`) }),
        ),
      ),
      keyStatus,
      keyAlert,
      retryActions,
      keyBox,
      codePart,
    );

    const form = h(
      'form',
      { class: 'form', noValidate: true, attrs: { 'aria-labelledby': 'invitation-title' } },
      h(
        'div',
        { class: 'invitation__step' },
        h('h2', { text: t('invitation.password_heading') }),
        passwords.wrappers,
        continueButton,
      ),
      keyStep,
    );

    /** The key the server offered last, `{ secret, account_name, issuer }`. */
    let enrolment = null;
    let keyBusy = false;
    // Requests a key from the server. Each request ends the key offered
    // before it, so this runs when the key step first opens, and again only
    // when the person requests a new key or the first request failed. After
    // a retry, whose button hides while the request runs, focus moves to the
    // key, or back to the button when the request failed again.
    async function requestKey({ replace = false, retry = false } = {}) {
      if (keyBusy || !token) return;
      keyBusy = true;
      retryActions.hidden = true;
      keyAlert.textContent = '';
      copyStatus.textContent = '';
      keyStatus.textContent = t('invitation.key_loading');
      try {
        const offered = await enrolInvitation(token);
        if (ctx.signal.aborted) return;
        enrolment = offered;
        keyCode.textContent = groupedKey(offered.secret);
        accountLine.textContent = t('invitation.key_account', {
          issuer: offered.issuer,
          account: offered.account_name,
        });
        keyBox.hidden = false;
        codePart.hidden = false;
        keyStatus.textContent = replace ? t('invitation.key_replaced') : '';
        if (replace) {
          codeField.input.value = '';
          clearFieldError(codeField);
        }
        if (retry) focusElement(keyHeading);
      } catch (error) {
        if (ctx.signal.aborted) return;
        keyStatus.textContent = '';
        if (UNUSABLE.has(error.code)) {
          showUnusable(error.code, { focus: true });
          return;
        }
        keyAlert.textContent = describeError(error);
        // Without a key on screen there is nothing to add to the app, so
        // the request can be made again from here.
        retryActions.hidden = enrolment !== null;
        if (retry && !retryActions.hidden) focusElement(retryKey);
      } finally {
        keyBusy = false;
      }
    }

    let busy = false;
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (busy) return;
      alert.textContent = '';
      const password = passwords.check();
      if (password === null) return;
      if (keyStep.hidden) {
        continueButton.hidden = true;
        keyStep.hidden = false;
        focusElement(keyHeading);
        requestKey();
        return;
      }
      if (!enrolment) return;
      clearFieldError(codeField);
      const code = codeField.input.value.replace(/\s+/g, '');
      const problem = codeProblem(code);
      if (problem) {
        showFieldError(codeField, t(problem));
        focusElement(codeField.input);
        return;
      }

      busy = true;
      accept.disabled = true;
      try {
        const marketing = passwords.marketing.input.checked;
        const accepted = await acceptInvitation(token, password, marketing, code);
        if (ctx.signal.aborted) return;
        token = null;
        showRecoveryCodes(invitation, accepted?.recovery_codes ?? []);
      } catch (error) {
        if (ctx.signal.aborted) return;
        if (UNUSABLE.has(error.code)) {
          showUnusable(error.code, { focus: true });
        } else if (error.code === 'request.invalid_field' && error.field === 'totp_code') {
          showFieldError(codeField, t('invitation.totp_wrong'));
          codeField.input.select();
          focusElement(codeField.input);
        } else if (error.code === 'request.invalid_field' && error.field === 'password') {
          passwords.reject(error);
        } else if (error.code === 'resource.conflict') {
          alert.textContent = t('invitation.worker_conflict');
          focusElement(alert);
        } else {
          alert.textContent = describeError(error);
          focusElement(alert);
        }
      } finally {
        busy = false;
        accept.disabled = false;
      }
    });

    const role = WORKER_ROLES.has(invitation.role) ? invitation.role : 'unknown';
    show(t('invitation.greeting', { name: invitation.display_name }), [
      h('p', {
        text: t(`invitation.worker_intro.${role}`, {
          organisation: invitation.organisation_name,
        }),
      }),
      h('p', { text: t('invitation.worker_steps') }),
      alert,
      form,
    ]);
  }

  async function load({ focus = false } = {}) {
    const loading = statusRegion();
    show(t('invitation.title'), [loading], { focus });
    loading.textContent = t('app.loading');
    try {
      const invitation = await openInvitation(token);
      if (ctx.signal.aborted) return;
      if (invitation.kind === 'worker') showWorkerForm(invitation);
      else showForm(invitation);
    } catch (error) {
      if (ctx.signal.aborted) return;
      if (UNUSABLE.has(error.code)) {
        showUnusable(error.code, { focus });
        return;
      }
      const alert = alertRegion();
      const retry = h('button', {
        type: 'button',
        class: 'button',
        text: t('invitation.retry'),
        on: { click: () => load({ focus: true }) },
      });
      show(t('invitation.title'), [alert, h('div', { class: 'actions' }, retry)]);
      alert.textContent = describeError(error);
    }
  }

  // A link without a token cannot match an invitation, so the server is not asked.
  if (!token) {
    showUnusable('invitation.unknown');
    return;
  }
  await load();
}
