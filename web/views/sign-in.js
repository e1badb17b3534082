// Sign-in page: email and password, then, when the server returns
// `auth.second_factor_required`, a second step for a 6-digit code or a
// recovery code. The password stays in this closure until sign-in ends and
// is never written to browser storage. Below the form, a link leads people
// new to KinLink to the page where they apply to join the community.

import { signIn } from '../api.js';
import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import { alertRegion, describeError, pageHeading, statusRegion } from './common.js';
import { clearFieldError, field, showFieldError } from './fields.js';

const TOTP_CODE = /^\d{6}$/;

export function mount(main, ctx) {
  ctx.setTitle(t('signin.title'));
  const section = h('section', { class: 'panel panel--narrow' });
  main.append(section);

  // Kept between the two steps, in memory only.
  let email = '';
  let password = '';
  let busy = false;
  // Shown once above the first form, so "Start again" does not repeat it.
  let notice = ctx.notice;

  async function attempt(secondFactor, alert, onFieldError) {
    if (busy) return;
    busy = true;
    alert.textContent = '';
    try {
      const answer = await signIn(email, password, secondFactor);
      password = '';
      ctx.signedIn(answer.user ?? answer);
    } catch (error) {
      if (ctx.signal.aborted) return;
      if (error.code === 'auth.second_factor_required' && !secondFactor.totp_code) {
        if (secondFactor.recovery_code) alert.textContent = describeError(error);
        else renderSecondFactorStep('totp');
        return;
      }
      if (!onFieldError(error)) alert.textContent = describeError(error);
    } finally {
      busy = false;
    }
  }

  function renderPasswordStep() {
    const heading = pageHeading(t('signin.title'), 'signin-title');
    const noticeRegion = statusRegion();
    const alert = alertRegion();
    const emailField = field({
      id: 'signin-email',
      name: 'email',
      label: t('signin.email'),
      type: 'email',
      attrs: { autocomplete: 'username', spellcheck: 'false', autocapitalize: 'none' },
    });
    const passwordField = field({
      id: 'signin-password',
      name: 'password',
      label: t('signin.password'),
      type: 'password',
      attrs: { autocomplete: 'current-password' },
    });
    emailField.input.value = email;

    const form = h(
      'form',
      { class: 'form', noValidate: true, attrs: { 'aria-labelledby': 'signin-title' } },
      emailField.wrapper,
      passwordField.wrapper,
      h('button', { type: 'submit', class: 'button', text: t('signin.submit') }),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      clearFieldError(emailField);
      clearFieldError(passwordField);
      email = emailField.input.value.trim();
      password = passwordField.input.value;
      if (!email) showFieldError(emailField, t('signin.email_missing'));
      if (!password) showFieldError(passwordField, t('signin.password_missing'));
      if (!email || !password) {
        focusElement(email ? passwordField.input : emailField.input);
        return;
      }
      attempt({}, alert, (error) => {
        if (error.code === 'auth.invalid_credentials') {
          // A rejected password is not left in the page: the field is
          // emptied and focused for the next try, and the alert gives the reason.
          password = '';
          passwordField.input.value = '';
          focusElement(passwordField.input);
          return false;
        }
        if (error.field !== 'email') return false;
        showFieldError(emailField, describeError(error));
        focusElement(emailField.input);
        return true;
      });
    });

    const join = h(
      'p',
      { class: 'after-form' },
      t('signin.join_intro'),
      ' ',
      h('a', { href: '#/community/join', text: t('signin.join_link') }),
    );
    section.replaceChildren(heading, noticeRegion, alert, form, join);
    if (notice) noticeRegion.textContent = t(notice);
    notice = null;
  }

  function renderSecondFactorStep(method) {
    const recovery = method === 'recovery';
    const heading = pageHeading(t('second_factor.title'), 'second-factor-title');
    const alert = alertRegion();
    const codeField = field({
      id: 'second-factor-code',
      name: recovery ? 'recovery_code' : 'totp_code',
      label: t(recovery ? 'second_factor.recovery_label' : 'second_factor.totp_label'),
      hint: t(recovery ? 'second_factor.recovery_hint' : 'second_factor.totp_hint'),
      attrs: recovery
        ? { autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' }
        : { autocomplete: 'one-time-code', inputmode: 'numeric' },
    });

    const switchMethod = h('button', {
      type: 'button',
      class: 'button button--link',
      text: t(recovery ? 'second_factor.use_totp' : 'second_factor.use_recovery'),
      on: { click: () => renderSecondFactorStep(recovery ? 'totp' : 'recovery') },
    });
    const restart = h('button', {
      type: 'button',
      class: 'button button--link',
      text: t('second_factor.restart'),
      on: {
        click: () => {
          password = '';
          renderPasswordStep();
          focusElement(section.querySelector('#signin-email'));
        },
      },
    });

    const form = h(
      'form',
      { class: 'form', noValidate: true, attrs: { 'aria-labelledby': 'second-factor-title' } },
      codeField.wrapper,
      h('button', { type: 'submit', class: 'button', text: t('second_factor.submit') }),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      clearFieldError(codeField);
      const code = codeField.input.value.replace(/\s+/g, '');
      const problem = checkCode(code, recovery);
      if (problem) {
        showFieldError(codeField, t(problem));
        focusElement(codeField.input);
        return;
      }
      const secondFactor = recovery ? { recovery_code: code } : { totp_code: code };
      attempt(secondFactor, alert, (error) => {
        if (!['auth.second_factor_invalid', 'request.invalid_field'].includes(error.code)) {
          return false;
        }
        showFieldError(codeField, describeError(error));
        codeField.input.select();
        focusElement(codeField.input);
        return true;
      });
    });

    const intro = t(recovery ? 'second_factor.recovery_intro' : 'second_factor.intro');
    section.replaceChildren(
      heading,
      h('p', { text: intro }),
      alert,
      form,
      h('div', { class: 'actions actions--stacked' }, switchMethod, restart),
    );
    focusElement(codeField.input);
  }

  renderPasswordStep();
}

function checkCode(code, recovery) {
  if (!code) return recovery ? 'second_factor.recovery_missing' : 'second_factor.totp_missing';
  if (!recovery && !TOTP_CODE.test(code)) return 'second_factor.totp_format';
  return null;
}
