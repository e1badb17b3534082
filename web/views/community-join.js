// "Join the community" (#/community/join), reached from the sign-in page.
// It takes an email address and requests an application link for it. The
// server responds the same way whatever the address, so the page only
// explains where the link goes. Someone signed in applies from the
// community page instead.

import { requestApplicationEmail } from '../community-api.js';
import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import { communityIntro } from './community-application.js';
import { COMMUNITY_HOME } from './community-parts.js';
import { alertRegion, describeError, pageHeading } from './common.js';
import { clearFieldError, field, showFieldError } from './fields.js';

export function mount(main, ctx) {
  const title = t('community.join.title');
  ctx.setTitle(title);
  const section = h('section', {
    class: 'panel panel--narrow',
    attrs: { 'aria-labelledby': 'community-join-title' },
  });
  main.append(section);

  if (ctx.user) {
    section.append(
      pageHeading(title, 'community-join-title'),
      h('p', { text: t('community.join.signed_in') }),
      h('p', {}, h('a', { href: COMMUNITY_HOME, text: t('community.join.signed_in_link') })),
    );
    return;
  }

  const alert = alertRegion();
  const emailField = field({
    id: 'community-join-email',
    name: 'email',
    type: 'email',
    label: t('community.join.email_label'),
    hint: t('community.join.email_hint'),
    attrs: { autocomplete: 'email', spellcheck: 'false', autocapitalize: 'none' },
  });
  const submit = h('button', { type: 'submit', class: 'button', text: t('community.join.submit') });
  const form = h(
    'form',
    { class: 'form', noValidate: true, attrs: { 'aria-labelledby': 'community-join-title' } },
    emailField.wrapper,
    submit,
  );

  function showSent(email) {
    const heading = pageHeading(t('community.join.sent_title'), 'community-join-title');
    ctx.setTitle(t('community.join.sent_title'));
    section.replaceChildren(
      heading,
      h('p', { text: t('community.join.sent_body', { email }) }),
      h('p', { text: t('community.join.sent_account') }),
      h('p', { text: t('community.join.sent_missing') }),
    );
    focusElement(heading);
  }

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    alert.textContent = '';
    clearFieldError(emailField);
    const email = emailField.input.value.trim();
    if (!email) {
      showFieldError(emailField, t('community.join.email_missing'));
      focusElement(emailField.input);
      return;
    }

    busy = true;
    submit.disabled = true;
    try {
      await requestApplicationEmail(email);
      if (ctx.signal.aborted) return;
      showSent(email);
    } catch (error) {
      if (ctx.signal.aborted) return;
      if (error.code === 'request.invalid_field' && error.field === 'email') {
        showFieldError(emailField, describeError(error));
        focusElement(emailField.input);
      } else {
        alert.textContent = describeError(error);
        focusElement(alert);
      }
    } finally {
      busy = false;
      submit.disabled = false;
    }
  });

  section.append(
    pageHeading(title, 'community-join-title'),
    ...communityIntro(),
    alert,
    form,
    h(
      'p',
      { class: 'after-form' },
      h('a', { href: '#/sign-in', text: t('community.join.sign_in_link') }),
    ),
  );
}
