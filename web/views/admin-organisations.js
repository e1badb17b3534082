// "Organisations" (#/admin/organisations), for the platform operator: every
// placing organisation with its kind, licence state and terms, a form
// that edits one organisation's terms in place, and a form that adds an
// organisation. Each card also lets the operator invite and approve the
// first manager of an organisation that has none yet.

import { createOrganisation, fetchAdminOrganisations, saveOrganisationTerms } from '../api.js';
import { focusElement, h } from '../dom.js';
import { formatDate } from '../format.js';
import { t, tPlural } from '../i18n.js';
import { firstManagerArea } from './admin-first-manager.js';
import { alertRegion, describeError, pageHeading, statusRegion } from './common.js';
import { codeLabel, isOperator } from './family-finding.js';
import { dayOf, organisationForm } from './organisation-form.js';

function licenceText(organisation) {
  const starts = dayOf(organisation.licence_starts_at);
  const expires = dayOf(organisation.licence_expires_at);
  if (starts && expires) {
    return t('admin_orgs.licence_from_to', { start: formatDate(starts), end: formatDate(expires) });
  }
  if (expires) return t('admin_orgs.licence_to', { end: formatDate(expires) });
  if (starts) return t('admin_orgs.licence_from', { start: formatDate(starts) });
  return t('admin_orgs.licence_open');
}

/**
 * Creates the card of an organisation, whose Edit terms button opens the
 * form in place, and starts loading its first manager's state.
 */
function organisationItem(ctx, organisation, onSave) {
  const heading = h('h3', {
    class: 'worker-card__title',
    text: organisation.name,
    attrs: { tabindex: '-1' },
  });
  const editButton = h(
    'button',
    { type: 'button', class: 'button button--secondary' },
    t('admin_orgs.edit'),
    h('span', { class: 'visually-hidden', text: ` ${organisation.name}` }),
  );
  const details = h(
    'div',
    {},
    h('p', { class: 'worker-card__meta' }, codeLabel('organisation_kind', organisation.kind)),
    h(
      'p',
      { class: 'worker-card__meta' },
      t('admin_orgs.licence_label'),
      ' ',
      h('span', {
        class: `badge badge--licence-${organisation.licence}`,
        text: codeLabel('licence', organisation.licence),
      }),
      ` ${licenceText(organisation)}`,
    ),
    h('p', {
      class: 'worker-card__meta',
      text: tPlural('admin_orgs.retention', organisation.retention_days),
    }),
    h('p', {
      class: 'worker-card__meta',
      text: t(
        organisation.families_edit_profiles
          ? 'admin_orgs.families_edit_yes'
          : 'admin_orgs.families_edit_no',
      ),
    }),
    h('div', { class: 'worker-card__actions' }, editButton),
  );
  const edit = organisationForm({
    idPrefix: `organisation-${organisation.id}`,
    organisation,
    withKind: false,
    submitLabel: t('admin_orgs.save'),
    onSubmit: (terms) => onSave(organisation, terms),
    onCancel: () => {
      edit.element.hidden = true;
      details.hidden = false;
      focusElement(editButton);
    },
  });
  edit.element.hidden = true;
  editButton.addEventListener('click', () => {
    details.hidden = true;
    edit.element.hidden = false;
    edit.focus();
  });
  const firstManager = firstManagerArea(ctx, organisation);
  firstManager.load();
  const element = h(
    'li',
    { class: 'worker-card', dataset: { organisationId: organisation.id } },
    heading,
    details,
    edit.element,
    firstManager.element,
  );
  return { element, heading };
}

export async function mount(main, ctx) {
  const title = t('admin_orgs.title');
  ctx.setTitle(title);
  const panel = h('section', { class: 'panel' }, pageHeading(title));
  main.append(panel);
  if (!isOperator(ctx.user)) {
    panel.append(h('p', { text: t('admin_orgs.operator_only') }));
    return;
  }

  const notice = statusRegion();
  const alert = alertRegion();
  const list = h('ul', {
    class: 'worker-list',
    attrs: { 'aria-labelledby': 'organisations-heading' },
  });
  const items = new Map();

  function show(organisation) {
    const built = organisationItem(ctx, organisation, save);
    const old = items.get(organisation.id);
    if (old) old.element.replaceWith(built.element);
    else list.append(built.element);
    items.set(organisation.id, built);
    return built;
  }

  async function save(organisation, terms) {
    notice.textContent = '';
    const saved = await saveOrganisationTerms(organisation.id, terms);
    if (ctx.signal.aborted) return;
    const built = show(saved);
    notice.textContent = t('admin_orgs.saved', { name: saved.name });
    focusElement(built.heading);
  }

  async function create(body) {
    notice.textContent = '';
    const created = await createOrganisation(body);
    if (ctx.signal.aborted) return;
    await load();
    notice.textContent = t('admin_orgs.created', { name: created.name });
    focusElement(items.get(created.id)?.heading);
  }

  async function load() {
    try {
      const organisations = await fetchAdminOrganisations();
      if (ctx.signal.aborted) return;
      items.clear();
      list.replaceChildren();
      for (const organisation of organisations) show(organisation);
      if (organisations.length === 0) {
        list.append(h('li', { class: 'empty', text: t('admin_orgs.empty') }));
      }
    } catch (error) {
      if (!ctx.signal.aborted) alert.textContent = describeError(error);
    }
  }

  const createForm = organisationForm({
    idPrefix: 'organisation-new',
    withKind: true,
    submitLabel: t('admin_orgs.create'),
    onSubmit: create,
  });
  panel.append(
    h('p', { text: t('admin_orgs.intro') }),
    notice,
    alert,
    h(
      'section',
      { class: 'workers__section', attrs: { 'aria-labelledby': 'organisations-heading' } },
      h('h2', { id: 'organisations-heading', text: t('admin_orgs.list_heading') }),
      list,
    ),
    h(
      'section',
      { class: 'workers__section', attrs: { 'aria-labelledby': 'organisation-new-heading' } },
      h('h2', { id: 'organisation-new-heading', text: t('admin_orgs.create_heading') }),
      h('p', { text: t('admin_orgs.create_intro') }),
      createForm.element,
    ),
  );
  await load();
}
