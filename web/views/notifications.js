// "Notification settings": an email each time something arrives, or one
// daily digest at a local hour in my time zone, and whether I want news
// about KinLink by email. The server checks every field, and a rejected
// one shows its error next to it.

import { fetchNotificationPreferences, saveNotificationPreferences } from '../api.js';
import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import { alertRegion, describeError, pageHeading, statusRegion } from './common.js';
import { checkboxField, clearFieldError, field, showFieldError } from './fields.js';

const DEFAULT_TIME_ZONE = 'Europe/London';
const DELIVERIES = ['immediate', 'digest'];
const WHOLE_NUMBER = /^\d{1,2}$/;

/** Returns the IANA time zone names this browser supports, or null when it cannot list them. */
function knownTimeZones() {
  if (typeof Intl.supportedValuesOf !== 'function') return null;
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return null;
  }
}

/**
 * Creates the radio buttons for how often email comes, with an error slot
 * that the group's description names while it shows.
 */
function deliveryGroup() {
  const error = h('p', { class: 'field__error', id: 'delivery-error', hidden: true });
  const radios = DELIVERIES.map((delivery) =>
    h('input', {
      type: 'radio',
      name: 'delivery',
      value: delivery,
      id: `delivery-${delivery}`,
      class: 'choice__input',
    }),
  );
  const wrapper = h(
    'fieldset',
    { class: 'field choices' },
    h('legend', { class: 'field__label', text: t('notifications.delivery_legend') }),
    error,
    radios.map((radio) =>
      h(
        'div',
        { class: 'choice' },
        radio,
        h('label', {
          htmlFor: radio.id,
          class: 'choice__label',
          text: t(`notifications.delivery.${radio.value}`),
        }),
      ),
    ),
  );
  return {
    wrapper,
    error,
    radios,
    get value() {
      return radios.find((radio) => radio.checked)?.value ?? null;
    },
    set value(delivery) {
      for (const radio of radios) radio.checked = radio.value === delivery;
    },
    showError(text) {
      error.textContent = text;
      error.hidden = false;
      wrapper.setAttribute('aria-describedby', error.id);
    },
    clearError() {
      error.textContent = '';
      error.hidden = true;
      wrapper.removeAttribute('aria-describedby');
    },
    focus() {
      focusElement(radios.find((radio) => radio.checked) ?? radios[0]);
    },
  };
}

/** Creates the time zone control: a list of the browser's zones, or a text field without one. */
function timeZoneField() {
  const zones = knownTimeZones();
  const control = field({
    id: 'notify-time-zone',
    name: 'time_zone',
    tag: zones ? 'select' : 'input',
    label: t('notifications.time_zone_label'),
    hint: t(zones ? 'notifications.time_zone_hint' : 'notifications.time_zone_hint_text'),
    attrs: zones ? {} : { autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' },
  });
  const select = zones ? control.input : null;
  if (select) {
    select.append(...zones.map((zone) => h('option', { value: zone, text: zone })));
  }
  return {
    control,
    get value() {
      return control.input.value.trim();
    },
    set value(zone) {
      // A stored zone this browser does not list is added, so saving keeps it.
      if (select && ![...select.options].some((option) => option.value === zone)) {
        select.append(h('option', { value: zone, text: zone }));
      }
      control.input.value = zone;
    },
  };
}

export async function mount(main, ctx) {
  ctx.setTitle(t('notifications.title'));
  const notice = statusRegion();
  const alert = alertRegion();
  const delivery = deliveryGroup();
  const hour = field({
    id: 'notify-digest-hour',
    name: 'digest_hour',
    type: 'number',
    label: t('notifications.hour_label'),
    hint: t('notifications.hour_hint'),
    attrs: { min: 0, max: 23, step: 1, inputmode: 'numeric' },
  });
  hour.input.classList.add('field__input--short');
  const timeZone = timeZoneField();
  const marketing = checkboxField({
    id: 'notify-marketing',
    name: 'marketing',
    label: t('notifications.marketing_label'),
    hint: t('notifications.marketing_hint'),
  });
  const news = h(
    'fieldset',
    { class: 'field choices' },
    h('legend', { class: 'field__label', text: t('notifications.marketing_legend') }),
    marketing.wrapper,
  );
  const saveButton = h('button', {
    type: 'submit',
    class: 'button',
    text: t('notifications.save'),
  });
  const form = h(
    'form',
    { class: 'form', noValidate: true, hidden: true },
    delivery.wrapper,
    hour.wrapper,
    timeZone.control.wrapper,
    news,
    saveButton,
  );
  main.append(
    h(
      'section',
      { class: 'panel panel--narrow' },
      pageHeading(t('notifications.title')),
      h('p', { text: t('notifications.intro') }),
      notice,
      alert,
      form,
    ),
  );

  const show = (preferences) => {
    delivery.value = preferences.delivery ?? 'immediate';
    hour.input.value = String(preferences.digest_hour ?? '');
    timeZone.value = preferences.time_zone || DEFAULT_TIME_ZONE;
    marketing.input.checked = preferences.marketing === true;
  };
  const clearErrors = () => {
    delivery.clearError();
    clearFieldError(hour);
    clearFieldError(timeZone.control);
  };
  // Shows a field's error next to it and focuses it. Returns false for a
  // field this form does not have.
  const showServerFieldError = (error) => {
    const message = describeError(error);
    if (error.field === 'delivery') {
      delivery.showError(message);
      delivery.focus();
    } else if (error.field === 'digest_hour') {
      showFieldError(hour, message);
      focusElement(hour.input);
    } else if (error.field === 'time_zone') {
      showFieldError(timeZone.control, message);
      focusElement(timeZone.control.input);
    } else {
      return false;
    }
    return true;
  };

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    clearErrors();
    notice.textContent = '';
    alert.textContent = '';
    // Only a whole number can be sent; the server checks its range.
    const hourText = hour.input.value.trim();
    if (!WHOLE_NUMBER.test(hourText)) {
      showFieldError(hour, t('notifications.hour_format'));
      focusElement(hour.input);
      return;
    }
    busy = true;
    saveButton.disabled = true;
    try {
      const saved = await saveNotificationPreferences({
        delivery: delivery.value,
        digest_hour: Number(hourText),
        time_zone: timeZone.value,
        marketing: marketing.input.checked,
      });
      if (ctx.signal.aborted) return;
      show(saved);
      notice.textContent = t('notifications.saved');
    } catch (error) {
      if (ctx.signal.aborted) return;
      const handled = error.code === 'request.invalid_field' && showServerFieldError(error);
      if (!handled) alert.textContent = describeError(error);
    } finally {
      busy = false;
      saveButton.disabled = false;
    }
  });

  notice.textContent = t('app.loading');
  try {
    const preferences = await fetchNotificationPreferences();
    if (ctx.signal.aborted) return;
    show(preferences);
    form.hidden = false;
    notice.textContent = '';
  } catch (error) {
    if (ctx.signal.aborted) return;
    notice.textContent = '';
    alert.textContent = describeError(error);
  }
}
