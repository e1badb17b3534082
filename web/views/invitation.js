// The page an invitation email links to, `/invitation#TOKEN`. The router
// takes the token out of the address bar before this view mounts and
// passes it in. The page greets the invited person by name, lets them
// choose a password, and then explains that their account waits for the
// practitioner who invited them to confirm who they are. News about
// KinLink by email is their choice, off unless they tick it. A link that is
// used, expired or not recognised gets a page of its own with no form.

import { acceptInvitation, openInvitation } from '../api.js';
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

/** Sign-in lives on the root page, because this page's own hash routes nowhere. */
const SIGN_IN_HREF = '/#/sign-in';

/** Returns the catalogue key of what is wrong with a new password, or null. */
function passwordProblem(password) {
  if (!password) return 'invitation.password_missing';
  if ([...password].length < PASSWORD_MIN_CHARS) return 'invitation.password_too_short';
  if (new TextEncoder().encode(password).length > PASSWORD_MAX_BYTES) {
    return 'invitation.password_too_long';
  }
  return null;
}

function repeatProblem(password, repeated) {
  if (!repeated) return 'invitation.repeat_missing';
  if (repeated !== password) return 'invitation.repeat_mismatch';
  return null;
}

function signInLink() {
  return h('p', {}, h('a', { href: SIGN_IN_HREF, text: t('invitation.sign_in_link') }));
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

  function showPending(name) {
    show(
      t('invitation.pending_title'),
      [
        h('p', { text: t('invitation.pending_thanks', { name }) }),
        h('p', { text: t('invitation.pending_next') }),
        signInLink(),
      ],
      { focus: true },
    );
  }

  function showForm(name) {
    const alert = alertRegion();
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
    const submit = h('button', { type: 'submit', class: 'button', text: t('invitation.submit') });
    const form = h(
      'form',
      { class: 'form', noValidate: true, attrs: { 'aria-labelledby': 'invitation-title' } },
      passwordField.wrapper,
      repeatField.wrapper,
      marketing.wrapper,
      submit,
    );

    let busy = false;
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (busy) return;
      alert.textContent = '';
      clearFieldError(passwordField);
      clearFieldError(repeatField);
      const password = passwordField.input.value;
      const passwordKey = passwordProblem(password);
      const repeatKey = passwordKey ? null : repeatProblem(password, repeatField.input.value);
      if (passwordKey) showFieldError(passwordField, t(passwordKey));
      if (repeatKey) showFieldError(repeatField, t(repeatKey));
      if (passwordKey || repeatKey) {
        focusElement(passwordKey ? passwordField.input : repeatField.input);
        return;
      }

      busy = true;
      submit.disabled = true;
      try {
        await acceptInvitation(token, password, marketing.input.checked);
        if (ctx.signal.aborted) return;
        token = null;
        showPending(name);
      } catch (error) {
        if (ctx.signal.aborted) return;
        if (UNUSABLE.has(error.code)) {
          showUnusable(error.code, { focus: true });
        } else if (error.code === 'request.invalid_field' && error.field === 'password') {
          showFieldError(passwordField, describeError(error));
          focusElement(passwordField.input);
        } else if (error.code === 'resource.conflict') {
          alert.textContent = t('invitation.account_exists');
        } else {
          alert.textContent = describeError(error);
        }
      } finally {
        busy = false;
        submit.disabled = false;
      }
    });

    show(t('invitation.greeting', { name }), [
      h('p', { text: t('invitation.intro') }),
      h('p', { text: t('invitation.sign_in_later') }),
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
      showForm(invitation.display_name);
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
