// "Your data rights" (#/rights), for every signed-in user: what each right
// means, a form that submits a request, and my requests with their state,
// due day and, when refused, the legal reason. A request goes to the
// organisation of my first role, or to the platform's operator.
// Withdrawing marketing consent takes effect at once, and my own copy of
// my data downloads from here without a request.

import { fetchMyRightsRequests, submitRightsRequest } from '../api.js';
import { focusElement, h } from '../dom.js';
import { formatDate } from '../format.js';
import { t } from '../i18n.js';
import { FormErrors, textArea } from './case-form-parts.js';
import { alertRegion, describeError, pageHeading, statusRegion } from './common.js';
import { selectField } from './fields.js';
import {
  DETAILS_MAX_CHARS,
  RIGHTS_KINDS,
  refusalReason,
  requestDays,
  requestDetails,
  stateBadges,
  textProblem,
} from './rights-parts.js';

const LIST_HEADING_ID = 'rights-list-heading';
const FORM_HEADING_ID = 'rights-form-heading';
const EXPORT_HEADING_ID = 'rights-export-heading';
const EXPORT_PATH = '/api/v1/me/export';

/** Creates the list that explains each right. */
function explanations() {
  return h(
    'dl',
    { class: 'rights-explained' },
    RIGHTS_KINDS.flatMap((kind) => [
      h('dt', { text: t(`rights.kind.${kind}`) }),
      h('dd', { text: t(`rights.explain.${kind}`) }),
    ]),
  );
}

/** Creates the section with the download of my own copy, which needs no request. */
function exportSection() {
  return h(
    'section',
    { class: 'rights__section', attrs: { 'aria-labelledby': EXPORT_HEADING_ID } },
    h('h2', { id: EXPORT_HEADING_ID, text: t('rights.export_heading') }),
    h('p', { text: t('rights.export_intro') }),
    h('a', {
      class: 'button',
      href: EXPORT_PATH,
      text: t('rights.export_link'),
      attrs: { download: '' },
    }),
  );
}

function requestItem(request) {
  const kind = RIGHTS_KINDS.includes(request.kind) ? request.kind : null;
  return h(
    'li',
    { class: 'rights-card', dataset: { requestId: request.id, state: request.state } },
    h('h3', {
      class: 'rights-card__title',
      text: kind ? t(`rights.kind.${kind}`) : t('rights.kind_unknown'),
    }),
    h('p', { class: 'rights-card__meta' }, stateBadges(request)),
    requestDays(request),
    requestDetails(request),
    refusalReason(request),
  );
}

/**
 * Creates the form that submits a request. `onSent(request)` runs with
 * the request the server recorded.
 */
function requestForm(ctx, onSent) {
  const errors = new FormErrors();
  const status = statusRegion();
  const alert = alertRegion();
  const kind = selectField({
    id: 'rights-kind',
    name: 'kind',
    label: t('rights.kind_label'),
    options: RIGHTS_KINDS.map((code) => ({ value: code, label: t(`rights.kind.${code}`) })),
    prompt: t('rights.kind_prompt'),
  });
  const details = textArea({
    id: 'rights-details',
    name: 'details',
    label: t('rights.details_label'),
    hint: t('rights.details_hint'),
    maxLength: DETAILS_MAX_CHARS,
    rows: 5,
  });
  errors.addControl('kind', kind);
  errors.addControl('details', details);
  const submit = h('button', { type: 'submit', class: 'button', text: t('rights.submit') });
  const form = h(
    'form',
    { class: 'form', noValidate: true, attrs: { 'aria-labelledby': FORM_HEADING_ID } },
    kind.wrapper,
    details.wrapper,
    submit,
  );

  /** Shows the problems this page finds before sending, and returns whether there were none. */
  function check(code, text) {
    errors.clear();
    const problems = [];
    if (!code) problems.push(['kind', t('rights.kind_missing')]);
    const detailsProblem = textProblem(text, {
      prefix: 'rights.details',
      maxChars: DETAILS_MAX_CHARS,
      required: code === 'correction',
    });
    if (detailsProblem) problems.push(['details', t(detailsProblem)]);
    errors.show(problems);
    return problems.length === 0;
  }

  function showFailure(error) {
    if (error.code === 'request.invalid_field' && errors.has(error.field)) {
      errors.show([[error.field, t(`rights.${error.field}_invalid`)]]);
      return;
    }
    alert.textContent = describeError(error);
    focusElement(alert);
  }

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    status.textContent = '';
    alert.textContent = '';
    const code = kind.input.value;
    const text = details.input.value.trim();
    if (!check(code, text)) return;
    busy = true;
    submit.disabled = true;
    try {
      const sent = await submitRightsRequest(code, text);
      if (ctx.signal.aborted) return;
      kind.input.value = '';
      details.input.value = '';
      status.textContent =
        sent.kind === 'marketing'
          ? t('rights.marketing_done')
          : t('rights.sent', { date: formatDate(sent.due_on) });
      await onSent(sent);
    } catch (error) {
      if (!ctx.signal.aborted) showFailure(error);
    } finally {
      busy = false;
      submit.disabled = false;
    }
  });

  return h(
    'section',
    { class: 'rights__section', attrs: { 'aria-labelledby': FORM_HEADING_ID } },
    h('h2', { id: FORM_HEADING_ID, text: t('rights.form_heading') }),
    status,
    alert,
    form,
  );
}

export async function mount(main, ctx) {
  ctx.setTitle(t('rights.title'));
  const loading = statusRegion();
  const alert = alertRegion();
  const list = h('ul', { class: 'rights-list', attrs: { 'aria-labelledby': LIST_HEADING_ID } });

  async function load() {
    loading.textContent = t('app.loading');
    alert.textContent = '';
    try {
      const requests = await fetchMyRightsRequests();
      if (ctx.signal.aborted) return;
      list.replaceChildren(...requests.map(requestItem));
      if (requests.length === 0) list.append(h('li', { class: 'empty', text: t('rights.empty') }));
    } catch (error) {
      if (!ctx.signal.aborted) alert.textContent = describeError(error);
    } finally {
      if (!ctx.signal.aborted) loading.textContent = '';
    }
  }

  main.append(
    h(
      'section',
      { class: 'panel rights' },
      pageHeading(t('rights.title')),
      h('p', { text: t('rights.intro') }),
      h('h2', { text: t('rights.explain_heading') }),
      explanations(),
      exportSection(),
      requestForm(ctx, load),
      h(
        'section',
        { class: 'rights__section', attrs: { 'aria-labelledby': LIST_HEADING_ID } },
        h('h2', { id: LIST_HEADING_ID, text: t('rights.list_heading') }),
        loading,
        alert,
        list,
      ),
    ),
  );
  await load();
}
