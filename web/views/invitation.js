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
import { checkboxField, clearFieldError, showFieldError } from './fields.js';
import { newPasswordFields } from './new-password.js';

/** Error codes of a link that cannot be used, each with a page of its own. */
const UNUSABLE = new Set(['invitation.used', 'invitation.expired', 'invitation.unknown']);

/** The roles a worker can be invited to, each with its own sentence. */
const WORKER_ROLES = new Set(['practitioner', 'manager']);

/** Sign-in lives on the root page, because this page's own hash routes nowhere. */
const SIGN_IN_HREF = '/#/sign-in';

function signInLink() {
  return h('p', {}, h('a', { href: SIGN_IN_HREF, text: t('invitation.sign_in_link') }));
}

/**
 * Creates the password, repeated password and news fields. `check()`
 * clears their errors, shows what is wrong next to the field and focuses
 * it, and returns the password, or null when it cannot be used.
 */
function passwordFields() {
  const passwords = newPasswordFields({ idPrefix: 'invitation' });
  const marketing = checkboxField({
    id: 'invitation-marketing',
    name: 'marketing',
    label: t('invitation.marketing_label'),
    hint: t('invitation.marketing_hint'),
  });
  return { ...passwords, marketing, wrappers: [...passwords.wrappers, marketing.wrapper] };
}

export async function mount(main, ctx, [token]) {
  ctx.setTitle(t('invitation.title'));
  const show = linkPanel(main, ctx, 'invitation-title', 'panel panel--narrow invitation');

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
    const done = h('button', {
      type: 'button',
      class: 'button',
      text: t('invitation.recovery_done'),
      on: { click: () => showWorkerPending(invitation) },
    });
    show(
      t('invitation.recovery_title'),
      [...recoveryCodeParts(codes), h('div', { class: 'actions' }, done)],
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
    const keyBox = authenticatorKeyBox({
      idPrefix: 'invitation',
      onNewKey: () => requestKey({ replace: true }),
    });
    const codeField = totpCodeField('invitation-totp');
    const accept = h('button', { type: 'submit', class: 'button', text: t('invitation.submit') });
    const codePart = h('div', { class: 'form', hidden: true }, codeField.wrapper, accept);
    const keyStep = h(
      'div',
      { class: 'invitation__step', hidden: true },
      keyHeading,
      h('p', { text: t('invitation.key_intro') }),
      setupSteps(t('invitation.key_step.code')),
      keyStatus,
      keyAlert,
      retryActions,
      keyBox.element,
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
      keyBox.clearStatus();
      keyStatus.textContent = t('invitation.key_loading');
      try {
        const offered = await enrolInvitation(token);
        if (ctx.signal.aborted) return;
        enrolment = offered;
        keyBox.show(offered);
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
      showLinkFailure(error, {
        show,
        showUnusable,
        unusable: UNUSABLE,
        title: t('invitation.title'),
        retryLabel: t('invitation.retry'),
        retry: load,
        focus,
      });
    }
  }

  // A link without a token cannot match an invitation, so the server is not asked.
  if (!token) {
    showUnusable('invitation.unknown');
    return;
  }
  await load();
}
