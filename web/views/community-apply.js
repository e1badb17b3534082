// The page an application email links to, `/community/apply#TOKEN`. The
// router takes the token out of the address bar before this view mounts
// and passes it in. The applicant chooses the display name other members
// see and a password, and may name a partner organisation with their
// membership number there. The server creates a community-only account,
// signs it in, and the page goes to the community home, where the
// application waits for a moderator. A link that is used, expired or not
// recognised gets a page of its own with no form.

import { fetchMe } from '../api.js';
import { confirmApplication } from '../community-api.js';
import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import { applicationFields, communityIntro, loadPartners } from './community-application.js';
import { COMMUNITY_HOME } from './community-parts.js';
import { alertRegion, describeError, linkPanel, statusRegion } from './common.js';
import { newPasswordFields } from './new-password.js';

/** Error codes of a link that cannot be used, each with a page of its own. */
const UNUSABLE = new Set(['invitation.used', 'invitation.expired', 'invitation.unknown']);

/** The join page lives on the root path, because this page's own hash routes nowhere. */
const JOIN_HREF = '/#/community/join';
const SIGN_IN_HREF = '/#/sign-in';

export async function mount(main, ctx, [token]) {
  ctx.setTitle(t('community.apply.title'));
  const show = linkPanel(main, ctx, 'community-apply-title', 'panel panel--narrow');

  /** Shows the page of a link that is used, expired or not recognised. */
  function showUnusable(code, options) {
    const kind = code.slice('invitation.'.length);
    const link =
      kind === 'used'
        ? h('a', { href: SIGN_IN_HREF, text: t('community.apply.sign_in_link') })
        : h('a', { href: JOIN_HREF, text: t('community.apply.join_again_link') });
    show(
      t(`community.apply.${kind}_title`),
      [h('p', { text: t(`community.apply.${kind}_body`) }), h('p', {}, link)],
      options,
    );
  }

  if (!token) {
    showUnusable('invitation.unknown');
    return;
  }

  const loading = statusRegion();
  show(t('community.apply.title'), [loading]);
  loading.textContent = t('app.loading');
  const partners = await loadPartners();
  if (ctx.signal.aborted) return;

  const alert = alertRegion();
  const application = applicationFields('community-apply', partners);
  const passwords = newPasswordFields({ idPrefix: 'community-apply' });
  const submit = h('button', {
    type: 'submit',
    class: 'button',
    text: t('community.apply.submit'),
  });
  const form = h(
    'form',
    { class: 'form', noValidate: true, attrs: { 'aria-labelledby': 'community-apply-title' } },
    application.wrappers,
    passwords.wrappers,
    submit,
  );

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    alert.textContent = '';
    const values = application.values();
    if (!values) return;
    const password = passwords.check();
    if (password === null) return;

    busy = true;
    submit.disabled = true;
    try {
      await confirmApplication({ token, password, ...values });
    } catch (error) {
      if (ctx.signal.aborted) return;
      if (UNUSABLE.has(error.code)) {
        showUnusable(error.code, { focus: true });
      } else if (error.code === 'request.invalid_field' && error.field === 'password') {
        passwords.reject(error);
      } else if (error.code === 'resource.conflict') {
        // The address got an account after the email went.
        show(
          t('community.apply.account_exists_title'),
          [
            h('p', { text: t('community.apply.account_exists_body') }),
            h('p', {}, h('a', { href: SIGN_IN_HREF, text: t('community.apply.sign_in_link') })),
          ],
          { focus: true },
        );
      } else if (!application.showServerError(error)) {
        alert.textContent = describeError(error);
        focusElement(alert);
      }
      return;
    } finally {
      busy = false;
      submit.disabled = false;
    }
    token = null;
    await enterCommunity();
  });

  // The account exists and its session cookie is set, so only the user's
  // details are missing. Without them the person signs in by hand.
  async function enterCommunity() {
    try {
      const me = await fetchMe();
      if (ctx.signal.aborted) return;
      ctx.signedIn(me.user ?? me, { route: COMMUNITY_HOME });
    } catch (error) {
      if (ctx.signal.aborted) return;
      console.warn('community account created, but loading it failed', error);
      show(
        t('community.apply.created_title'),
        [
          h('p', { text: t('community.apply.created_body') }),
          h('p', {}, h('a', { href: SIGN_IN_HREF, text: t('community.apply.sign_in_link') })),
        ],
        { focus: true },
      );
    }
  }

  show(t('community.apply.title'), [...communityIntro(), alert, form]);
}
