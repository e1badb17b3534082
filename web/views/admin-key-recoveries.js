// "Account recovery" (#/admin/key-recoveries), for platform admins: the
// recoveries of accounts whose owners lost their password, newest first,
// and a form that requests a new one with the account's address and a
// reason. A second platform admin approves each recovery on its card, and
// the operator then runs the command the card shows. Nothing on this page
// reads what the account's key protects.

import { fetchKeyRecoveries, requestKeyRecovery } from '../api.js';
import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import { alertRegion, describeError, pageHeading, statusRegion } from './common.js';
import { isOperator } from './family-finding.js';
import { clearFieldError, field, showFieldError } from './fields.js';
import { keyRecoveryCard } from './key-recovery-card.js';

/** The server's limit on a reason, in characters. */
const REASON_MAX_CHARS = 500;

/**
 * Creates the form that requests a recovery. `send(email, reason)` sends
 * it and resolves once the page shows the new recovery; the form is then
 * emptied. The server's rejections show next to the field they name, or
 * in the form's alert.
 */
function requestForm(ctx, send) {
  const alert = alertRegion();
  const emailField = field({
    id: 'key-recovery-email',
    name: 'email',
    type: 'email',
    label: t('key_recoveries.email_label'),
    hint: t('key_recoveries.email_hint'),
    attrs: { autocomplete: 'off', spellcheck: 'false' },
  });
  const reasonField = field({
    id: 'key-recovery-reason',
    name: 'reason',
    tag: 'textarea',
    label: t('key_recoveries.reason_label'),
    hint: t('key_recoveries.reason_hint'),
    attrs: { rows: '3' },
  });
  const submit = h('button', {
    type: 'submit',
    class: 'button',
    text: t('key_recoveries.request_submit'),
  });
  const form = h(
    'form',
    { class: 'form', noValidate: true, attrs: { 'aria-labelledby': 'key-recovery-new-heading' } },
    alert,
    emailField.wrapper,
    reasonField.wrapper,
    submit,
  );

  /**
   * Shows what is wrong with the typed values next to their fields, focuses
   * the first field at fault and returns whether both values can be sent.
   */
  function check(email, reason) {
    clearFieldError(emailField);
    clearFieldError(reasonField);
    const problems = [];
    if (!email) problems.push([emailField, 'key_recoveries.email_missing']);
    if (!reason) problems.push([reasonField, 'key_recoveries.reason_missing']);
    else if ([...reason].length > REASON_MAX_CHARS) {
      problems.push([reasonField, 'key_recoveries.reason_too_long']);
    }
    for (const [control, key] of problems) showFieldError(control, t(key));
    if (problems.length > 0) focusElement(problems[0][0].input);
    return problems.length === 0;
  }

  function showServerError(error) {
    let control = null;
    if (error.code === 'request.invalid_field' && error.field === 'email') {
      control = emailField;
      showFieldError(emailField, t('key_recoveries.email_unknown'));
    } else if (error.code === 'request.invalid_field' && error.field === 'reason') {
      control = reasonField;
      showFieldError(reasonField, t('key_recoveries.reason_invalid'));
    } else if (error.code === 'recovery.rejected') {
      // The server rejects a request only when it is for the admin's own account.
      alert.textContent = t('key_recoveries.request_own_account');
    } else if (error.code === 'resource.conflict') {
      alert.textContent = t('key_recoveries.request_conflict');
    } else {
      alert.textContent = describeError(error);
    }
    focusElement(control ? control.input : alert);
  }

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    alert.textContent = '';
    const email = emailField.input.value.trim();
    const reason = reasonField.input.value.trim();
    if (!check(email, reason)) return;

    busy = true;
    submit.disabled = true;
    try {
      await send(email, reason);
      if (ctx.signal.aborted) return;
      emailField.input.value = '';
      reasonField.input.value = '';
    } catch (error) {
      if (!ctx.signal.aborted) showServerError(error);
    } finally {
      busy = false;
      submit.disabled = false;
    }
  });
  return form;
}

export async function mount(main, ctx) {
  const title = t('key_recoveries.title');
  ctx.setTitle(title);
  const panel = h('section', { class: 'panel' }, pageHeading(title));
  main.append(panel);
  if (!isOperator(ctx.user)) {
    panel.append(h('p', { text: t('key_recoveries.operator_only') }));
    return;
  }

  const loading = statusRegion();
  const notice = statusRegion();
  const alert = alertRegion();
  const listHeading = h('h2', {
    id: 'key-recoveries-heading',
    text: t('key_recoveries.list_heading'),
    attrs: { tabindex: '-1' },
  });
  const list = h('ul', {
    class: 'worker-list',
    attrs: { 'aria-labelledby': 'key-recoveries-heading' },
  });
  /** Cards on screen, by recovery id. */
  const cards = new Map();

  /** Reads the recoveries again and shows them. Returns false when reading failed. */
  async function load() {
    loading.textContent = t('app.loading');
    try {
      const recoveries = await fetchKeyRecoveries();
      if (ctx.signal.aborted) return false;
      cards.clear();
      list.replaceChildren();
      for (const recovery of recoveries) {
        const card = keyRecoveryCard(ctx, recovery, changed);
        cards.set(recovery.id, card);
        list.append(card.element);
      }
      if (recoveries.length === 0) {
        list.append(h('li', { class: 'empty', text: t('key_recoveries.empty') }));
      }
      return true;
    } catch (error) {
      if (!ctx.signal.aborted) alert.textContent = describeError(error);
      return false;
    } finally {
      if (!ctx.signal.aborted) loading.textContent = '';
    }
  }

  /** Reads the list again after a step on recovery `id`, shows `message` and focuses its card. */
  async function changed(id, message) {
    notice.textContent = '';
    alert.textContent = '';
    const loaded = await load();
    if (ctx.signal.aborted) return;
    if (message.notice) notice.textContent = message.notice;
    if (message.alert && loaded) alert.textContent = message.alert;
    focusElement(cards.get(id)?.heading ?? listHeading);
  }

  async function send(email, reason) {
    notice.textContent = '';
    alert.textContent = '';
    const created = await requestKeyRecovery(email, reason);
    if (ctx.signal.aborted) return;
    const params = { name: created.display_name, email: created.email };
    await changed(created.id, { notice: t('key_recoveries.requested_notice', params) });
  }

  panel.append(
    h('p', { text: t('key_recoveries.intro') }),
    h('p', { text: t('key_recoveries.intro_steps') }),
    notice,
    alert,
    h(
      'section',
      { class: 'workers__section', attrs: { 'aria-labelledby': 'key-recoveries-heading' } },
      listHeading,
      loading,
      list,
    ),
    h(
      'section',
      { class: 'workers__section', attrs: { 'aria-labelledby': 'key-recovery-new-heading' } },
      h('h2', { id: 'key-recovery-new-heading', text: t('key_recoveries.request_heading') }),
      h('p', { text: t('key_recoveries.request_intro') }),
      requestForm(ctx, send),
    ),
  );
  await load();
}
