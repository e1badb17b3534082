// "My profile" in the community (#/community/profile): the display name
// other members see, and three fields (family make-up, legal status and
// interests), each with a "Visible to members" checkbox. A field left
// unticked stays between me and the moderators: the server leaves it out
// of what other members receive. "Delete my profile" removes the three
// fields at once, after a confirmation on the page; the display name
// stays, because my posts carry it.

import { deleteMyProfile, fetchMyProfile, saveMyProfile } from '../community-api.js';
import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import {
  charCount,
  communityPage,
  DISPLAY_NAME_MAX_CHARS,
  legalStatusLabel,
  memberHref,
  SHORT_TEXT_MAX_CHARS,
} from './community-parts.js';
import { pictureField } from './community-profile-picture.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import { clearFieldError, field, selectField, showFieldError } from './fields.js';

export const LEGAL_STATUSES = [
  'fostering',
  'placement_order',
  'adoption_order',
  'special_guardianship_order',
  'kinship_care',
  'other',
];

/** The profile's fields in the order the page shows them, each a text or a choice. */
export const PROFILE_FIELDS = [
  { name: 'family_makeup', kind: 'text' },
  { name: 'legal_status', kind: 'choice' },
  { name: 'interests', kind: 'text' },
];

/**
 * Creates the control of one profile field and its "Visible to members"
 * checkbox, grouped under the field's label. Returns `{ wrapper, control,
 * visible, fill(entry), entry() }`, where an entry is `{ value, visible }`.
 */
function profileField({ name, kind }) {
  const id = `community-profile-${name.replaceAll('_', '-')}`;
  const label = t(`community.profile.field.${name}`);
  const hint = t(`community.profile.hint.${name}`, { max: SHORT_TEXT_MAX_CHARS });
  const control =
    kind === 'choice'
      ? selectField({
          id,
          name,
          label,
          hint,
          prompt: t('community.profile.not_given'),
          options: LEGAL_STATUSES.map((code) => ({ value: code, label: legalStatusLabel(code) })),
        })
      : field({ id, name, label, hint, tag: 'textarea' });
  if (kind === 'text') control.input.rows = 3;
  const visible = h('input', { type: 'checkbox', id: `${id}-visible`, class: 'choice__input' });
  const labelId = `${id}-label`;
  control.wrapper.querySelector('label').id = labelId;
  const wrapper = h(
    'div',
    { class: 'community-profile__field', attrs: { role: 'group', 'aria-labelledby': labelId } },
    control.wrapper,
    h(
      'div',
      { class: 'choice' },
      visible,
      h('label', {
        htmlFor: visible.id,
        class: 'choice__label',
        text: t('community.profile.visible'),
      }),
    ),
  );
  return {
    wrapper,
    control,
    visible,
    fill(entry) {
      control.input.value = entry?.value ?? '';
      visible.checked = Boolean(entry?.visible);
    },
    // An empty text goes as "" and no legal status as null, because the server rejects a null text.
    entry() {
      const value = control.input.value.trim();
      if (kind === 'choice') return { value: value || null, visible: visible.checked };
      return { value, visible: visible.checked };
    },
  };
}

/** Creates the section that deletes the profile after a confirmation. */
function deleteSection(ctx, onDeleted) {
  const heading = h('h2', {
    id: 'community-profile-delete',
    text: t('community.profile.delete'),
  });
  const alert = alertRegion();
  const confirmHeading = h('h3', {
    id: 'community-profile-delete-confirm',
    text: t('community.profile.delete_confirm_title'),
    attrs: { tabindex: '-1' },
  });
  const open = h('button', {
    type: 'button',
    class: 'button button--danger',
    text: t('community.profile.delete'),
    on: {
      click: () => {
        open.hidden = true;
        confirmation.hidden = false;
        focusElement(confirmHeading);
      },
    },
  });
  const confirm = h('button', {
    type: 'button',
    class: 'button button--danger',
    text: t('community.profile.delete_confirm'),
    on: { click: () => remove() },
  });
  const cancel = h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: t('community.cancel'),
    on: {
      click: () => {
        confirmation.hidden = true;
        open.hidden = false;
        focusElement(open);
      },
    },
  });
  const confirmation = h(
    'div',
    {
      class: 'callout callout--important',
      hidden: true,
      attrs: { role: 'group', 'aria-labelledby': confirmHeading.id },
    },
    confirmHeading,
    h('p', { text: t('community.profile.delete_confirm_body') }),
    h('div', { class: 'actions' }, confirm, cancel),
  );

  let busy = false;
  async function remove() {
    if (busy) return;
    busy = true;
    confirm.disabled = true;
    alert.textContent = '';
    try {
      await deleteMyProfile();
      if (ctx.signal.aborted) return;
      confirmation.hidden = true;
      open.hidden = false;
      onDeleted();
    } catch (error) {
      if (ctx.signal.aborted) return;
      alert.textContent = describeError(error);
      focusElement(alert);
    } finally {
      busy = false;
      confirm.disabled = false;
    }
  }

  return h(
    'section',
    { class: 'community__section', attrs: { 'aria-labelledby': heading.id } },
    heading,
    h('p', { text: t('community.profile.delete_intro') }),
    alert,
    h('div', { class: 'actions' }, open),
    confirmation,
  );
}

export async function mount(main, ctx) {
  const page = await communityPage(main, ctx, {
    title: t('community.profile.title'),
    current: '#/community/profile',
  });
  if (!page) return;
  const { panel, membership } = page;
  if (membership.moderator) {
    panel.append(h('p', { text: t('community.profile.moderators') }));
    return;
  }
  const loading = statusRegion();
  const notice = statusRegion();
  const alert = alertRegion();

  const nameField = field({
    id: 'community-profile-display-name',
    name: 'display_name',
    label: t('community.apply.display_name_label'),
    hint: t('community.apply.display_name_hint', { max: DISPLAY_NAME_MAX_CHARS }),
    attrs: { autocomplete: 'off', maxlength: DISPLAY_NAME_MAX_CHARS },
  });
  const picture = pictureField(ctx, membership);
  const fields = PROFILE_FIELDS.map((spec) => ({ spec, ...profileField(spec) }));
  const save = h('button', { type: 'submit', class: 'button', text: t('community.profile.save') });
  const form = h(
    'form',
    { class: 'form', noValidate: true, attrs: { 'aria-labelledby': 'community-profile-form' } },
    nameField.wrapper,
    picture.wrapper,
    fields.map((each) => each.wrapper),
    h('div', { class: 'actions' }, save),
  );

  function fill(profile) {
    nameField.input.value = profile?.display_name ?? membership.display_name ?? '';
    picture.fill(profile?.picture);
    for (const each of fields) each.fill(profile?.[each.spec.name]);
  }

  // The form shows once the profile has loaded, so nothing typed before
  // then is overwritten.
  form.hidden = true;
  async function load() {
    loading.textContent = t('app.loading');
    try {
      fill(await fetchMyProfile());
      if (ctx.signal.aborted) return;
      form.hidden = false;
    } catch (error) {
      if (!ctx.signal.aborted) alert.textContent = describeError(error);
    } finally {
      if (!ctx.signal.aborted) loading.textContent = '';
    }
  }

  function clearErrors() {
    clearFieldError(nameField);
    for (const each of fields) clearFieldError(each.control);
  }

  function showNameError() {
    const text = t('community.apply.display_name_invalid', { max: DISPLAY_NAME_MAX_CHARS });
    showFieldError(nameField, text);
    focusElement(nameField.input);
  }

  /** Shows a rejected field's error next to it, and returns false for a field the form lacks. */
  function showRejected(error) {
    if (error.code !== 'request.invalid_field') return false;
    if (error.field === 'display_name') {
      showNameError();
      return true;
    }
    if (error.field === 'picture') {
      picture.showError();
      return true;
    }
    const rejected = fields.find((each) => each.spec.name === error.field);
    if (!rejected) return false;
    const text = t('community.profile.field_invalid', { max: SHORT_TEXT_MAX_CHARS });
    showFieldError(rejected.control, text);
    focusElement(rejected.control.input);
    return true;
  }

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    notice.textContent = '';
    alert.textContent = '';
    clearErrors();
    const displayName = nameField.input.value.trim();
    const length = charCount(displayName);
    if (length === 0 || length > DISPLAY_NAME_MAX_CHARS) {
      showNameError();
      return;
    }
    const tooLong = fields.find(
      (each) => charCount(each.entry().value ?? '') > SHORT_TEXT_MAX_CHARS,
    );
    if (tooLong) {
      showRejected({ code: 'request.invalid_field', field: tooLong.spec.name });
      return;
    }
    if (!picture.check()) return;
    // The server replaces the whole profile, so the picture to keep is sent too.
    const profile = { display_name: displayName, picture: picture.entry() };
    for (const each of fields) profile[each.spec.name] = each.entry();

    busy = true;
    save.disabled = true;
    try {
      const saved = await saveMyProfile(profile);
      if (ctx.signal.aborted) return;
      if (saved) fill(saved);
      notice.textContent = t('community.profile.saved');
    } catch (error) {
      if (ctx.signal.aborted) return;
      if (!showRejected(error)) {
        alert.textContent = describeError(error);
        focusElement(alert);
      }
    } finally {
      busy = false;
      save.disabled = false;
    }
  });

  panel.append(
    h('p', { text: t('community.profile.intro') }),
    h(
      'p',
      {},
      h('a', {
        href: memberHref(membership.user_id ?? ctx.user.id),
        text: t('community.profile.preview_link'),
      }),
    ),
    h(
      'section',
      { class: 'community__section', attrs: { 'aria-labelledby': 'community-profile-form' } },
      h('h2', { id: 'community-profile-form', text: t('community.profile.form_heading') }),
      loading,
      notice,
      alert,
      form,
    ),
    deleteSection(ctx, async () => {
      await load();
      if (ctx.signal.aborted) return;
      notice.textContent = t('community.profile.deleted');
      focusElement(notice);
    }),
  );
  await load();
}
