// The moderators' "New group" form on the community home: a name, a
// description members read in the list of groups, and whether anyone can
// join or a moderator approves each member.

import { createGroup } from '../community-api.js';
import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import { charCount, describeCommunityError, SHORT_TEXT_MAX_CHARS } from './community-parts.js';
import { alertRegion, statusRegion } from './common.js';
import { clearFieldError, field, radioGroup, showFieldError } from './fields.js';

/** Maximum characters of a group's name, as the server allows. */
export const GROUP_NAME_MAX_CHARS = 80;
const JOIN_KINDS = ['open', 'approval'];

/**
 * Creates the section with the form. `onCreated(group)` runs after the
 * server stored a group, and moves focus, because the form has nothing
 * left to focus.
 */
export function newGroupSection(ctx, membership, onCreated) {
  const headingId = 'community-new-group-heading';
  const status = statusRegion();
  const alert = alertRegion();
  const nameField = field({
    id: 'community-new-group-name',
    name: 'name',
    label: t('community.new_group.name_label'),
    hint: t('community.new_group.name_hint', { max: GROUP_NAME_MAX_CHARS }),
    attrs: { autocomplete: 'off', maxlength: GROUP_NAME_MAX_CHARS },
  });
  const descriptionField = field({
    id: 'community-new-group-description',
    name: 'description',
    tag: 'textarea',
    label: t('community.new_group.description_label'),
    hint: t('community.new_group.description_hint', { max: SHORT_TEXT_MAX_CHARS }),
  });
  descriptionField.input.rows = 3;
  const join = radioGroup({
    id: 'community-new-group-join',
    name: 'join',
    legend: t('community.new_group.join_legend'),
    choices: JOIN_KINDS.map((value) => ({
      value,
      label: t(`community.new_group.join.${value}`),
    })),
  });
  const submit = h('button', {
    type: 'submit',
    class: 'button',
    text: t('community.new_group.submit'),
  });
  const form = h(
    'form',
    { class: 'form', noValidate: true, attrs: { 'aria-labelledby': headingId } },
    alert,
    nameField.wrapper,
    descriptionField.wrapper,
    join.wrapper,
    h('div', { class: 'actions' }, submit),
  );

  function showNameError(key = 'community.new_group.name_invalid') {
    showFieldError(nameField, t(key, { max: GROUP_NAME_MAX_CHARS }));
    focusElement(nameField.input);
  }
  function showDescriptionError() {
    const text = t('community.new_group.description_invalid', { max: SHORT_TEXT_MAX_CHARS });
    showFieldError(descriptionField, text);
    focusElement(descriptionField.input);
  }
  function showJoinError() {
    join.showError(t('community.new_group.join_missing'));
    join.focus();
  }
  /** Functions that show the server's rejection of a field, by the field's name. */
  const serverFieldErrors = new Map([
    ['name', () => showNameError()],
    ['description', showDescriptionError],
    ['join', showJoinError],
  ]);

  function clearErrors() {
    alert.textContent = '';
    clearFieldError(nameField);
    clearFieldError(descriptionField);
    join.clearError();
  }

  // Shows what is wrong with the fields, focusing the first at fault, and
  // returns the group to send, or null.
  function values() {
    const name = nameField.input.value.trim();
    const description = descriptionField.input.value.trim();
    const nameLength = charCount(name);
    const problems = [];
    if (nameLength === 0 || nameLength > GROUP_NAME_MAX_CHARS || /[\r\n]/.test(name)) {
      problems.push(() => showNameError());
    }
    if (charCount(description) > SHORT_TEXT_MAX_CHARS) problems.push(showDescriptionError);
    if (!join.value) problems.push(showJoinError);
    // Later fields first, so that focus ends on the first one at fault.
    for (const show of problems.reverse()) show();
    return problems.length === 0 ? { name, description, join: join.value } : null;
  }

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    clearErrors();
    status.textContent = '';
    const group = values();
    if (!group) return;
    busy = true;
    submit.disabled = true;
    try {
      const created = await createGroup(group);
      if (ctx.signal.aborted) return;
      form.reset();
      status.textContent = t('community.new_group.created', { name: created?.name ?? group.name });
      await onCreated(created);
    } catch (error) {
      if (ctx.signal.aborted) return;
      const showField = serverFieldErrors.get(error.field);
      if (error.code === 'request.invalid_field' && showField) {
        showField();
      } else if (error.code === 'resource.conflict') {
        // Group names are unique ignoring case and spacing.
        showNameError('community.new_group.name_taken');
      } else {
        alert.textContent = describeCommunityError(error, membership);
        focusElement(alert);
      }
    } finally {
      busy = false;
      submit.disabled = false;
    }
  });

  return h(
    'section',
    { class: 'community__section', attrs: { 'aria-labelledby': headingId } },
    h('h2', { id: headingId, text: t('community.new_group.heading') }),
    h('p', { text: t('community.new_group.intro') }),
    status,
    form,
  );
}
