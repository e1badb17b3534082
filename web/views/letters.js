// The Letters area of a contact link's conversation view. It lists the
// letters I may see with their status, offers "Write a letter" to the
// link's parties while its agreement is active, and shows the agreement's
// status and reason when letters are paused or ended. The supervisor gets
// links to the timeline and to the agreement page. The list loads again
// when a `letters` frame reports that the link's letters or agreement changed.

import { fetchLetters, startLetter } from '../api.js';
import { h } from '../dom.js';
import { formatTime } from '../format.js';
import { t } from '../i18n.js';
import { alertRegion, describeError } from './common.js';
import {
  agreementNotice,
  agreementOrNull,
  followLetters,
  isSupervisor,
  letterStatusText,
} from './letter-parts.js';

function letterItem(letter, myUserId) {
  const mine = letter.writer_id === myUserId;
  const title = mine ? t('letters.yours') : t('letters.from', { name: letter.writer_name });
  return h(
    'li',
    { class: 'letter-card', dataset: { letterId: letter.id } },
    h(
      'h3',
      { class: 'letter-card__title' },
      h('a', { href: `#/letters/${letter.id}`, class: 'letter-card__link', text: title }),
    ),
    h(
      'p',
      { class: 'letter-card__meta' },
      h('span', { class: `badge badge--${letter.status}`, text: letterStatusText(letter.status) }),
      ' ',
      h('span', {
        text: t('letters.updated', { time: formatTime(letter.updated_at ?? letter.created_at) }),
      }),
    ),
  );
}

/** Creates the sentence about who reads letters before they are passed on. */
function reviewText(agreement) {
  const level = agreement.review_level;
  if (!['every_item', 'first_exchange', 'none'].includes(level)) return null;
  return h('p', { class: 'letters__review', text: t(`agreement.review.${level}`) });
}

/**
 * Creates the Letters area of the contact link `summary` and starts
 * loading it. Returns `{ element, dispose }`.
 */
export function lettersArea(ctx, summary, { onAgreement } = {}) {
  const supervisor = isSupervisor(summary, ctx.user.id);
  const status = h('div', { class: 'letters__status' });
  const alert = alertRegion();
  const actions = h('div', { class: 'actions letters__actions' });
  const list = h('ul', { class: 'letter-list', attrs: { 'aria-labelledby': 'letters-heading' } });
  const empty = h('p', { class: 'empty', text: t('letters.empty'), hidden: true });
  const element = h(
    'section',
    { class: 'letters', attrs: { 'aria-labelledby': 'letters-heading' } },
    h('h2', { id: 'letters-heading', text: t('letters.title') }),
    status,
    alert,
    actions,
    list,
    empty,
  );

  let writing = false;
  async function write(button) {
    if (writing) return;
    writing = true;
    button.disabled = true;
    alert.textContent = '';
    try {
      const letter = await startLetter(summary.id);
      if (!ctx.signal.aborted) location.hash = `#/letters/${letter.id}`;
    } catch (error) {
      if (ctx.signal.aborted) return;
      // A conflict means the link stopped being active since it was shown.
      await load();
      alert.textContent =
        error.code === 'resource.conflict' ? t('letters.cannot_write') : describeError(error);
    } finally {
      writing = false;
      button.disabled = false;
    }
  }

  function showActions(agreement) {
    const buttons = [];
    if (!supervisor && agreement?.status === 'active') {
      const button = h('button', { type: 'button', class: 'button', text: t('letters.write') });
      button.addEventListener('click', () => write(button));
      buttons.push(button);
    }
    if (supervisor) {
      buttons.push(
        h('a', {
          href: `#/conversations/${summary.id}/timeline`,
          class: 'letters__timeline-link',
          text: t('letters.timeline_link'),
        }),
        h('a', {
          href: `#/conversations/${summary.id}/agreement`,
          class: 'letters__timeline-link',
          text: t('letters.agreement_link'),
        }),
      );
    }
    actions.replaceChildren(...buttons);
    actions.hidden = buttons.length === 0;
  }

  async function load() {
    try {
      const [agreement, letters] = await Promise.all([
        agreementOrNull(summary.id),
        fetchLetters(summary.id),
      ]);
      if (ctx.signal.aborted) return;
      alert.textContent = '';
      onAgreement?.(agreement);
      const notice = agreementNotice(agreement);
      status.replaceChildren(...[notice ?? (agreement && reviewText(agreement))].filter(Boolean));
      showActions(agreement);
      list.replaceChildren(...letters.map((letter) => letterItem(letter, ctx.user.id)));
      list.hidden = letters.length === 0;
      empty.hidden = letters.length > 0;
    } catch (error) {
      if (!ctx.signal.aborted) alert.textContent = describeError(error);
    }
  }

  // Letters change while I am on another page, so they load again whenever
  // this page comes back into view.
  const onVisible = () => {
    if (document.visibilityState === 'visible') load();
  };
  document.addEventListener('visibilitychange', onVisible);
  const stopFollowing = followLetters(ctx, (id) => id === summary.id, load);
  load();

  return {
    element,
    dispose() {
      document.removeEventListener('visibilitychange', onVisible);
      stopFollowing();
    },
  };
}
