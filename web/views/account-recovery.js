// The page an account recovery email links to, `/recover#TOKEN`, for
// someone who lost their password. Two platform admins agreed to the
// recovery, and the operator's command sent the link. The router takes the
// token out of the address bar before this view mounts and passes it in,
// and the page sends it only in request bodies.
//
// The page opens the link, names the account it restores and prompts for
// a new password twice. For an account with a second factor, it also shows
// a new authenticator key, because the old one was sealed under the lost
// password, and sends the new app's code with the password. The server
// then returns new recovery codes, which the page shows once, with a
// button to the sign-in page. A link that is used, expired or not
// recognised gets a page of its own with no form.

import { completeRecovery, openRecoveryLink } from '../api.js';
import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import {
  authenticatorKeyBox,
  codeProblem,
  recoveryCodeParts,
  setupSteps,
  totpCodeField,
} from './authenticator-setup.js';
import {
  alertRegion,
  describeError,
  linkPanel,
  showLinkFailure,
  statusRegion,
} from './common.js';
import { clearFieldError, showFieldError } from './fields.js';
import { newPasswordFields } from './new-password.js';

/** Error codes of a link that cannot be used, each with a page of its own. */
const UNUSABLE = new Set(['recovery.used', 'recovery.expired', 'recovery.unknown']);

/** Sign-in lives on the root page, because this page's own hash routes nowhere. */
const SIGN_IN_HREF = '/#/sign-in';

function isFieldError(error, field) {
  return error.code === 'request.invalid_field' && error.field === field;
}

function signInLink() {
  return h('p', {}, h('a', { href: SIGN_IN_HREF, text: t('recover.sign_in') }));
}

export async function mount(main, ctx, [token]) {
  ctx.setTitle(t('recover.title'));
  const show = linkPanel(main, ctx, 'recover-title', 'panel panel--narrow invitation');

  /** Shows the page of a link that is used, expired or not recognised. */
  function showUnusable(code, options) {
    const kind = code.slice('recovery.'.length);
    const children = [h('p', { text: t(`recover.${kind}_body`) })];
    if (kind === 'used') children.push(signInLink());
    show(t(`recover.${kind}_title`), children, options);
  }

  /**
   * Shows that the new password of `link`'s account is set, with the new
   * recovery codes when there are any.
   */
  function showDone(link, codes) {
    const next = link.second_factor ? 'recover.done_next_second_factor' : 'recover.done_next';
    const children = [
      h('p', { text: t(next, { email: link.email }) }),
      h('p', { text: t('recover.done_sessions') }),
    ];
    if (codes.length > 0) {
      children.push(h('p', { text: t('recover.done_old_codes') }), ...recoveryCodeParts(codes));
    }
    children.push(
      h(
        'div',
        { class: 'actions' },
        h('a', { class: 'button', href: SIGN_IN_HREF, text: t('recover.sign_in') }),
      ),
    );
    show(t('recover.done_title'), children, { focus: true });
  }

  /**
   * Creates the step that sets up the new authenticator key `offered`,
   * with a button that requests another key from the server when adding
   * this one went wrong.
   */
  function keyStep(offered) {
    const keyStatus = statusRegion();
    const keyAlert = alertRegion();
    const codeField = totpCodeField('recover-totp');
    let keyBusy = false;
    // Each call to open the link offers a new key and ends the one before,
    // so this runs only when the person requests a new key.
    async function replaceKey() {
      if (keyBusy || !token) return;
      keyBusy = true;
      keyAlert.textContent = '';
      keyBox.clearStatus();
      keyStatus.textContent = t('invitation.key_loading');
      try {
        const opened = await openRecoveryLink(token);
        if (ctx.signal.aborted) return;
        if (!opened.second_factor) throw new Error('the recovery link offered no new key');
        keyBox.show(opened.second_factor);
        keyStatus.textContent = t('invitation.key_replaced');
        codeField.input.value = '';
        clearFieldError(codeField);
      } catch (error) {
        if (ctx.signal.aborted) return;
        keyStatus.textContent = '';
        if (UNUSABLE.has(error.code)) {
          showUnusable(error.code, { focus: true });
          return;
        }
        keyAlert.textContent = describeError(error);
      } finally {
        keyBusy = false;
      }
    }
    const keyBox = authenticatorKeyBox({ idPrefix: 'recover', onNewKey: replaceKey });
    keyBox.show(offered);
    const element = h(
      'div',
      { class: 'invitation__step' },
      h('h2', { text: t('recover.key_heading') }),
      h('p', { text: t('recover.key_intro') }),
      setupSteps(t('recover.key_step_code')),
      keyStatus,
      keyAlert,
      keyBox.element,
      codeField.wrapper,
    );
    return { element, codeField };
  }

  /**
   * Shows the form for `link`, `{ email, second_factor }`: the new
   * password and, for an account offered a key, the new authenticator.
   * Both parts are one form, so a rejected code leaves the passwords as
   * they were typed.
   */
  function showForm(link) {
    const alert = alertRegion();
    const passwords = newPasswordFields({
      idPrefix: 'recover',
      label: t('recover.password_label'),
      repeatLabel: t('recover.repeat_label'),
    });
    const submit = h('button', { type: 'submit', class: 'button', text: t('recover.submit') });
    const authenticator = link.second_factor ? keyStep(link.second_factor) : null;
    const passwordPart = authenticator
      ? h(
          'div',
          { class: 'invitation__step' },
          h('h2', { text: t('recover.password_heading') }),
          passwords.wrappers,
        )
      : passwords.wrappers;
    const form = h(
      'form',
      { class: 'form', noValidate: true, attrs: { 'aria-labelledby': 'recover-title' } },
      passwordPart,
      authenticator?.element,
      submit,
    );

    let busy = false;
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (busy) return;
      alert.textContent = '';
      const password = passwords.check();
      if (password === null) return;
      let code = null;
      if (authenticator) {
        const { codeField } = authenticator;
        clearFieldError(codeField);
        code = codeField.input.value.replace(/\s+/g, '');
        const problem = codeProblem(code);
        if (problem) {
          showFieldError(codeField, t(problem));
          focusElement(codeField.input);
          return;
        }
      }

      busy = true;
      submit.disabled = true;
      try {
        const completed = await completeRecovery(token, password, code);
        if (ctx.signal.aborted) return;
        token = null;
        showDone(link, completed?.recovery_codes ?? []);
      } catch (error) {
        if (ctx.signal.aborted) return;
        showSubmitError(error, { passwords, authenticator, alert });
      } finally {
        busy = false;
        submit.disabled = false;
      }
    });

    const intro = [
      h('p', { text: t('recover.intro', { email: link.email }) }),
      h('p', { text: t('recover.history') }),
    ];
    if (authenticator) intro.push(h('p', { text: t('recover.second_factor_intro') }));
    show(t('recover.heading'), [...intro, alert, form]);
  }

  /** Shows why the server rejected the form, next to the field it names when it names one. */
  function showSubmitError(error, { passwords, authenticator, alert }) {
    if (UNUSABLE.has(error.code)) {
      showUnusable(error.code, { focus: true });
    } else if (isFieldError(error, 'new_password')) {
      passwords.reject(error);
    } else if (isFieldError(error, 'totp_code') && authenticator) {
      const { codeField } = authenticator;
      showFieldError(codeField, t('invitation.totp_wrong'));
      codeField.input.select();
      focusElement(codeField.input);
    } else if (error.code === 'resource.conflict') {
      // The server has no key on offer for the link, and reopening the page requests one.
      alert.textContent = t('recover.key_missing');
      focusElement(alert);
    } else {
      alert.textContent = describeError(error);
      focusElement(alert);
    }
  }

  async function load({ focus = false } = {}) {
    const loading = statusRegion();
    show(t('recover.title'), [loading], { focus });
    loading.textContent = t('app.loading');
    try {
      const link = await openRecoveryLink(token);
      if (ctx.signal.aborted) return;
      showForm(link);
    } catch (error) {
      if (ctx.signal.aborted) return;
      showLinkFailure(error, {
        show,
        showUnusable,
        unusable: UNUSABLE,
        title: t('recover.title'),
        retryLabel: t('recover.retry'),
        retry: load,
        focus,
      });
    }
  }

  // A link without a token cannot match a recovery, so the server is not asked.
  if (!token) {
    showUnusable('recovery.unknown');
    return;
  }
  await load();
}
