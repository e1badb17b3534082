// The Arranged sessions area of a conversation view: the video sessions
// arranged ahead of time, soonest first, for every member. A practitioner
// or manager arranges one with a date and a time in their own time zone,
// and cancels one after confirming. The server emails the other members
// each time, without the time or any name, and rejects a family's
// requests with 403, so the page shows the form to staff only.

import { cancelScheduledCall, fetchScheduledCalls, scheduleCall } from '../api.js';
import { focusElement, h } from '../dom.js';
import { currentLanguage, t } from '../i18n.js';
import { confirmedAction } from './call-tiles.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import { clearFieldError, field, showFieldError } from './fields.js';

/** Roles that may arrange and cancel sessions, as the server allows. */
const ARRANGING_ROLES = new Set(['practitioner', 'manager']);

/** Returns a date-time input value, `YYYY-MM-DDTHH:MM`, of `date` in local time. */
function localValue(date) {
  const pad = (number) => String(number).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

/** Formats a session's start with its weekday, in local time. */
function formatStart(iso) {
  return new Intl.DateTimeFormat(currentLanguage(), {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  }).format(new Date(iso));
}

/**
 * Creates the Arranged sessions area of the conversation `summary` and
 * starts loading it. Returns `{ element }`.
 */
export function scheduleArea(ctx, summary) {
  const mayArrange = (ctx.user.roles ?? []).some((role) => ARRANGING_ROLES.has(role));
  const notice = statusRegion();
  const alert = alertRegion();
  const list = h('ul', {
    class: 'scheduled-calls',
    attrs: { 'aria-labelledby': 'scheduled-calls-heading' },
  });
  const empty = h('p', { class: 'empty', text: t('schedule.empty'), hidden: true });
  let sessions = [];

  const show = () => {
    list.replaceChildren(...sessions.map(item));
    list.hidden = sessions.length === 0;
    empty.hidden = sessions.length > 0;
  };

  function item(session) {
    const start = h('time', { dateTime: session.starts_at, text: formatStart(session.starts_at) });
    const by = session.scheduled_by_name
      ? t('schedule.arranged_by', { name: session.scheduled_by_name })
      : '';
    const entry = h(
      'li',
      { class: 'scheduled-call', dataset: { scheduledId: session.id } },
      h('p', { class: 'scheduled-call__when' }, start, by ? ` – ${by}` : ''),
    );
    if (mayArrange) {
      const cancel = confirmedAction({
        id: `cancel-session-${session.id}`,
        label: t('schedule.cancel'),
        context: formatStart(session.starts_at),
        title: t('schedule.cancel_title'),
        body: t('schedule.cancel_body'),
        confirmLabel: t('schedule.cancel_confirm'),
        onConfirm: async () => {
          alert.textContent = '';
          try {
            await cancelScheduledCall(summary.id, session.id);
            if (ctx.signal.aborted) return;
            sessions = sessions.filter((each) => each.id !== session.id);
            show();
            notice.textContent = t('schedule.cancelled');
            focusElement(heading);
          } catch (error) {
            if (!ctx.signal.aborted) alert.textContent = describeError(error);
          }
        },
      });
      entry.append(cancel.element);
    }
    return entry;
  }

  const heading = h('h3', {
    id: 'scheduled-calls-heading',
    text: t('schedule.title'),
    attrs: { tabindex: '-1' },
  });
  const element = h(
    'section',
    { class: 'schedule', attrs: { 'aria-labelledby': 'scheduled-calls-heading' } },
    heading,
    alert,
    list,
    empty,
  );
  if (mayArrange) element.append(arrangeForm());
  element.append(notice);

  function arrangeForm() {
    const when = field({
      id: 'schedule-starts-at',
      name: 'starts_at',
      type: 'datetime-local',
      label: t('schedule.starts_at_label'),
      hint: t('schedule.starts_at_hint'),
    });
    when.input.min = localValue(new Date());
    const button = h('button', { type: 'submit', class: 'button', text: t('schedule.arrange') });
    const form = h(
      'form',
      { class: 'schedule__form', noValidate: true },
      when.wrapper,
      h('div', { class: 'actions' }, button),
    );
    let saving = false;
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (saving) return;
      clearFieldError(when);
      notice.textContent = '';
      alert.textContent = '';
      // The input contains local time, which Date parses as local time too.
      const start = new Date(when.input.value);
      if (!when.input.value || Number.isNaN(start.getTime()) || start <= new Date()) {
        showFieldError(when, t('schedule.starts_at_invalid'));
        focusElement(when.input);
        return;
      }
      saving = true;
      button.disabled = true;
      try {
        const session = await scheduleCall(summary.id, start.toISOString());
        if (ctx.signal.aborted) return;
        sessions = [...sessions, session].sort((a, b) => a.starts_at.localeCompare(b.starts_at));
        show();
        when.input.value = '';
        notice.textContent = t('schedule.arranged', { when: formatStart(session.starts_at) });
      } catch (error) {
        if (ctx.signal.aborted) return;
        if (error.code === 'request.invalid_field' && error.field === 'starts_at') {
          showFieldError(when, t('schedule.starts_at_invalid'));
          focusElement(when.input);
        } else {
          alert.textContent = describeError(error);
        }
      } finally {
        saving = false;
        button.disabled = false;
      }
    });
    return form;
  }

  fetchScheduledCalls(summary.id)
    .then((loaded) => {
      if (ctx.signal.aborted) return;
      sessions = loaded;
      show();
    })
    .catch((error) => {
      if (!ctx.signal.aborted) alert.textContent = describeError(error);
    });

  return { element };
}
