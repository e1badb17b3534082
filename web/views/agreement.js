// A contact link's agreement page, for the practitioner who supervises the
// link: its status with the buttons that change it, then the agreement
// itself as a form that saves it whole. The contact link page links here
// only for the supervisor. Anyone else who opens the address is told that
// the page is not for them, and the families see the link's status and
// reason in its Letters area instead.

import { fetchConversations, saveAgreement } from '../api.js';
import { focusElement, h } from '../dom.js';
import { errorText, t } from '../i18n.js';
import { agreementForm } from './agreement-form.js';
import { statusSection } from './agreement-status.js';
import {
  alertRegion,
  describeError,
  otherMemberNames,
  pageHeading,
  statusRegion,
} from './common.js';
import { agreementOrNull, isSupervisor } from './letter-parts.js';

/** Returns the link's participants, the people the agreement lists as parties. */
function participantsOf(summary) {
  return (summary.members ?? [])
    .filter((member) => member.role === 'participant')
    .map((member) => ({ user_id: member.user_id, display_name: member.display_name }));
}

export async function mount(main, ctx, [conversationId]) {
  ctx.setTitle(t('agreement_page.title'));
  const heading = pageHeading(t('agreement_page.title'), 'agreement-title');
  const subtitle = h('p', { class: 'timeline__subtitle' });
  const notice = statusRegion();
  const alert = alertRegion();
  const content = h('div', { class: 'agreement' });
  main.append(
    h(
      'section',
      { class: 'panel', attrs: { 'aria-labelledby': heading.id } },
      h(
        'p',
        {},
        h('a', {
          href: `#/conversations/${conversationId}`,
          class: 'back-link',
          text: t('letter.back'),
        }),
      ),
      heading,
      subtitle,
      notice,
      alert,
      content,
    ),
  );

  let participants = [];
  const status = statusSection(ctx, conversationId, {
    // Only an ended link changes the form, which then becomes read-only;
    // otherwise unsaved edits in the form stay as they are.
    onChanged: (agreement) => {
      if (agreement.status === 'ended') showForm(agreement);
    },
    onConflict: (message) => load({ message }),
  });
  const formNotice = statusRegion();
  const formAlert = alertRegion();
  const formSlot = h('div');
  const noAgreement = h('div', { class: 'callout callout--warning' }, [
    h('p', { class: 'callout__title', text: t('agreement.none') }),
    h('p', { text: t('agreement_page.none_hint') }),
  ]);
  const formSection = h(
    'section',
    { class: 'agreement__form', attrs: { 'aria-labelledby': 'agreement-form-heading' } },
    h('h2', { id: 'agreement-form-heading', text: t('agreement_page.form_heading') }),
    noAgreement,
    h('p', { text: t('agreement_page.form_intro') }),
    formNotice,
    formAlert,
    formSlot,
  );

  let form = null;
  function showForm(agreement) {
    form = agreementForm({ agreement, participants, onSubmit: save });
    const ended = agreement?.status === 'ended';
    formSlot.replaceChildren(form.element);
    if (ended) {
      formSlot.prepend(h('p', { class: 'callout', text: t('agreement_page.ended_read_only') }));
    }
    if (ended) form.disable();
    noAgreement.hidden = agreement !== null;
    status.element.hidden = agreement === null;
  }

  async function save(body) {
    const saving = form;
    saving.setBusy(true);
    formNotice.textContent = '';
    formAlert.textContent = '';
    try {
      const saved = await saveAgreement(conversationId, body);
      if (ctx.signal.aborted) return;
      status.show(saved);
      showForm(saved);
      formNotice.textContent = t('agreement_page.saved');
      form.focusSave();
    } catch (error) {
      if (ctx.signal.aborted) return;
      const handled =
        error.code === 'request.invalid_field' &&
        saving.showServerError(error, describeError(error));
      if (handled) return;
      if (error.code === 'resource.conflict') {
        await load({ message: t('agreement_page.ended_conflict') });
        return;
      }
      formAlert.textContent = describeError(error);
      focusElement(formAlert);
    } finally {
      saving.setBusy(false);
    }
  }

  /** Loads the link and its agreement and draws the page, with `message` in its status line. */
  async function load({ message = '' } = {}) {
    notice.textContent = t('app.loading');
    alert.textContent = '';
    let summary;
    let agreement = null;
    try {
      const summaries = await fetchConversations();
      if (ctx.signal.aborted) return;
      ctx.chat.updateSummaries(summaries);
      summary = summaries.find(
        (each) => each.id === conversationId && each.kind === 'contact_link',
      );
      if (summary && isSupervisor(summary, ctx.user.id)) {
        agreement = await agreementOrNull(conversationId);
      }
    } catch (error) {
      if (ctx.signal.aborted) return;
      notice.textContent = '';
      alert.textContent = describeError(error);
      return;
    }
    if (ctx.signal.aborted) return;
    notice.textContent = message;

    if (!summary) {
      alert.textContent = errorText('resource.not_found');
      return;
    }
    const names = otherMemberNames(summary, ctx.user.id);
    subtitle.textContent = t('timeline.subtitle', { names });
    if (!isSupervisor(summary, ctx.user.id)) {
      content.replaceChildren(h('p', { text: t('agreement_page.not_supervisor') }));
      return;
    }
    participants = participantsOf(summary);
    if (agreement) status.show(agreement);
    showForm(agreement);
    formNotice.textContent = '';
    content.replaceChildren(status.element, formSection);
    if (message) focusElement(heading);
  }

  await load();
}
