// The page at the end of a news email, `/unsubscribe#TOKEN`. The router
// takes the token out of the address bar before this view mounts and
// passes it in. The page turns news email off at once, with no session,
// and says so. A link that is too old or not recognised gets a page of
// its own that explains what to do instead.

import { unsubscribe } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { linkPanel, showLinkFailure, statusRegion } from './common.js';

/** Error codes of a link that cannot be used, each with a page of its own. */
const UNUSABLE = new Set(['unsubscribe.expired', 'unsubscribe.unknown']);

/** These pages live on the root page, because this page's own hash routes nowhere. */
const SIGN_IN_HREF = '/#/sign-in';
const SETTINGS_HREF = '/#/notifications';

/** Creates the link to the notification settings, through sign-in when I am signed out. */
function settingsLink(ctx) {
  const signedIn = ctx.user !== null;
  return h(
    'p',
    {},
    h('a', {
      href: signedIn ? SETTINGS_HREF : SIGN_IN_HREF,
      text: t(signedIn ? 'unsubscribe.settings_link' : 'unsubscribe.sign_in_link'),
    }),
  );
}

export async function mount(main, ctx, [token]) {
  ctx.setTitle(t('unsubscribe.title'));
  const show = linkPanel(main, ctx, 'unsubscribe-title', 'panel panel--narrow');

  /** Shows the page of a link that is too old or not recognised. */
  function showUnusable(code, options) {
    const kind = code.slice('unsubscribe.'.length);
    show(
      t(`unsubscribe.${kind}_title`),
      [h('p', { text: t(`unsubscribe.${kind}_body`) }), settingsLink(ctx)],
      options,
    );
  }

  async function send({ focus = false } = {}) {
    const progress = statusRegion();
    show(t('unsubscribe.title'), [progress], { focus });
    progress.textContent = t('unsubscribe.working');
    try {
      await unsubscribe(token);
      if (ctx.signal.aborted) return;
      show(
        t('unsubscribe.done_title'),
        [h('p', { text: t('unsubscribe.done_body') }), settingsLink(ctx)],
        { focus },
      );
    } catch (error) {
      if (ctx.signal.aborted) return;
      showLinkFailure(error, {
        show,
        showUnusable,
        unusable: UNUSABLE,
        title: t('unsubscribe.title'),
        retryLabel: t('unsubscribe.retry'),
        retry: send,
        focus,
      });
    }
  }

  // A link without a token cannot match anything, so the server is not asked.
  if (!token) {
    showUnusable('unsubscribe.unknown');
    return;
  }
  await send();
}
