// "Applications" (#/community/moderation/applications), for moderators:
// the applications I may decide, oldest first, each with the partner and
// membership number given and whether the partner's membership list has
// that number with the applicant's email. Verify makes the membership
// active at once. Reject opens a form for the reason, which the applicant
// reads on their community page.

import { decideApplication, fetchApplications } from '../community-api.js';
import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import {
  communityPage,
  contextButton,
  SHORT_TEXT_MAX_CHARS,
  timeElement,
} from './community-parts.js';
import { reasonForm } from './community-reason-form.js';
import { alertRegion, describeError, statusRegion } from './common.js';

function applicationItem(application, actions) {
  const name = application.display_name;
  const context = t('community.applications.context', { name });
  const verify = contextButton('button', t('community.applications.verify'), context, () =>
    actions.verify(application, verify),
  );
  const openReject = contextButton(
    'button button--secondary',
    t('community.applications.reject'),
    context,
    () => {
      openReject.hidden = true;
      reject.element.hidden = false;
      reject.focus();
    },
  );
  const reject = reasonForm({
    id: `application-${application.user_id}-reject`,
    label: t('community.applications.reject_label', { name }),
    reasonLabel: t('community.applications.reason_label'),
    reasonHint: t('community.applications.reason_hint', { max: SHORT_TEXT_MAX_CHARS }),
    submitLabel: t('community.applications.reject_submit'),
    cancel: () => {
      reject.element.hidden = true;
      openReject.hidden = false;
      focusElement(openReject);
    },
    submit: ({ reason }) => actions.reject(application, reason),
  });
  reject.element.hidden = true;

  const match = application.list_match ? 'match' : 'no_match';
  return h(
    'li',
    { class: 'worker-card', dataset: { userId: application.user_id } },
    h('h3', { class: 'worker-card__title', text: name }),
    h('p', { class: 'worker-card__meta', text: application.email }),
    h(
      'p',
      { class: 'worker-card__meta' },
      application.partner?.name
        ? t('community.applications.partner', { partner: application.partner.name })
        : t('community.apply.no_partner'),
      '. ',
      application.membership_number
        ? t('community.applications.number', { number: application.membership_number })
        : t('community.apply.no_number'),
    ),
    h(
      'p',
      { class: 'worker-card__meta' },
      h('span', {
        class: `badge badge--list-${match}`,
        text: t(`community.applications.list.${match}`),
      }),
      ' ',
      t('community.applications.applied'),
      ' ',
      timeElement(application.applied_at),
    ),
    h('div', { class: 'actions' }, verify, openReject),
    reject.element,
  );
}

export async function mount(main, ctx) {
  const page = await communityPage(main, ctx, {
    title: t('community.applications.title'),
    current: '#/community/moderation/applications',
    moderatorsOnly: true,
  });
  if (!page) return;
  const { panel, heading } = page;
  const loading = statusRegion();
  const notice = statusRegion();
  const alert = alertRegion();
  const list = h('ul', {
    class: 'worker-list',
    attrs: { 'aria-label': t('community.applications.title') },
  });
  panel.append(
    h('p', { text: t('community.applications.intro') }),
    loading,
    notice,
    alert,
    list,
  );

  async function load() {
    loading.textContent = t('app.loading');
    try {
      const applications = await fetchApplications();
      if (ctx.signal.aborted) return;
      list.replaceChildren(...applications.map((each) => applicationItem(each, actions)));
      if (applications.length === 0) {
        list.append(h('li', { class: 'empty', text: t('community.applications.empty') }));
      }
    } catch (error) {
      if (!ctx.signal.aborted) alert.textContent = describeError(error);
    } finally {
      if (!ctx.signal.aborted) loading.textContent = '';
    }
  }

  // Shows the outcome of a decision and loads the list again. The decided
  // item is gone with its buttons, so focus moves to the heading.
  async function decided(text) {
    notice.textContent = text;
    await load();
    focusElement(heading);
  }

  // Another moderator may have decided first, so the list loads again to show what is left.
  function explainConflict(error) {
    if (error.code !== 'resource.conflict') return false;
    alert.textContent = t('community.applications.decided_already');
    load();
    return true;
  }

  let busy = false;
  const actions = {
    async verify(application, button) {
      if (busy) return;
      busy = true;
      button.disabled = true;
      notice.textContent = '';
      alert.textContent = '';
      try {
        await decideApplication(application.user_id, 'verify');
        if (ctx.signal.aborted) return;
        await decided(t('community.applications.verified', { name: application.display_name }));
      } catch (error) {
        if (ctx.signal.aborted) return;
        if (!explainConflict(error)) alert.textContent = describeError(error);
        button.disabled = false;
        focusElement(alert);
      } finally {
        busy = false;
      }
    },
    async reject(application, reason) {
      notice.textContent = '';
      alert.textContent = '';
      try {
        await decideApplication(application.user_id, 'reject', reason);
      } catch (error) {
        if (explainConflict(error)) return;
        throw error;
      }
      if (ctx.signal.aborted) return;
      await decided(t('community.applications.rejected', { name: application.display_name }));
    },
  };

  await load();
}
