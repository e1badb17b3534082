// "Interests": each expression of interest in my organisation's cases, on
// either side, with its state, a link to its discussion, a button that
// moves it to its next state, and a form that ends it with a reason. Only
// the workers in an interest's discussion may read it or change the
// interest, so the others see neither the link nor the buttons. The case
// page shows the same items for one case.

import { fetchConversations, fetchInterests, setInterestState } from '../api.js';
import { focusElement, h } from '../dom.js';
import { formatTime } from '../format.js';
import { t } from '../i18n.js';
import { alertRegion, describeError, statusRegion } from './common.js';
import { clearFieldError, radioGroup, selectField, showFieldError } from './fields.js';
import { caseTitle, codeLabel, sectionPage } from './family-finding.js';

/** The state an interest moves on to, short of an end, by its current state. */
const NEXT_STATE = { open: 'progressing', progressing: 'linked' };
/** The ends an interest may reach from each state that has not ended. */
const ENDS = {
  open: ['declined', 'withdrawn'],
  progressing: ['declined', 'withdrawn'],
  linked: ['placed', 'declined', 'withdrawn'],
};
/**
 * Returns whether my organisation may move `interest` to `state`: either
 * side takes it on to progressing, the child's organisation links, places
 * and declines, and the family's withdraws, as the server decides.
 */
function mayDecide(interest, state) {
  if (state === 'progressing') return true;
  if (state === 'withdrawn') return Boolean(interest.family?.own);
  return Boolean(interest.child?.own);
}

/** The reasons each end may be given, as the server allows them. */
const END_REASONS = {
  placed: ['placement_made'],
  declined: [
    'needs_not_met',
    'another_family_chosen',
    'family_circumstances',
    'child_plan_changed',
    'other',
  ],
  withdrawn: ['family_withdrew', 'family_circumstances', 'child_plan_changed', 'other'],
};

/** Returns a short description of the interest for the hidden context of its buttons. */
function interestName(interest) {
  return t('interests.name', {
    child: caseTitle(interest.child),
    family: caseTitle(interest.family),
  });
}

function caseLine(labelKey, summary) {
  return h(
    'p',
    { class: 'case-card__meta' },
    t(labelKey),
    ' ',
    h('a', { href: `#/cases/${summary.id}`, text: caseTitle(summary) }),
    ` (${summary.organisation?.name ?? ''})`,
  );
}

/**
 * Creates the end form of an interest: a choice of the ends its state
 * allows, the reasons of the chosen end, and confirm and cancel buttons,
 * under a heading of element name `headingLevel`. `onEnd(end, reason,
 * button)` sends it and `onCancel()` closes it.
 */
function endForm(interest, { onEnd, onCancel, headingLevel }) {
  const idBase = `interest-${interest.id}-end`;
  const ends = (ENDS[interest.state] ?? []).filter((state) => mayDecide(interest, state));
  const end = radioGroup({
    id: `${idBase}-state`,
    name: `${idBase}-state`,
    legend: t('interests.end_legend'),
    choices: ends.map((value) => ({ value, label: t(`interests.end_choice.${value}`) })),
  });
  const reason = selectField({
    id: `${idBase}-reason`,
    name: 'reason',
    label: t('interests.reason_label'),
    options: [],
    prompt: t('interests.reason_choose_end'),
  });
  const fillReasons = () => {
    const reasons = END_REASONS[end.value] ?? [];
    reason.input.replaceChildren(
      h('option', {
        value: '',
        text: t(end.value ? 'case_form.choose' : 'interests.reason_choose_end'),
      }),
      ...reasons.map((code) => h('option', { value: code, text: codeLabel('end_reason', code) })),
    );
    if (reasons.length === 1) reason.input.value = reasons[0];
  };
  for (const radio of end.radios) radio.addEventListener('change', fillReasons);
  fillReasons();

  const heading = h(headingLevel, {
    id: `${idBase}-heading`,
    text: t('interests.end_title', { name: interestName(interest) }),
    attrs: { tabindex: '-1' },
  });
  const confirm = h('button', {
    type: 'submit',
    class: 'button button--danger',
    text: t('interests.end_confirm'),
  });
  const cancel = h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: t('interests.end_cancel'),
    on: { click: onCancel },
  });
  const form = h(
    'form',
    {
      class: 'form callout callout--important',
      noValidate: true,
      attrs: { 'aria-labelledby': heading.id },
    },
    heading,
    h('p', { text: t('interests.end_body') }),
    end.wrapper,
    reason.wrapper,
    h('div', { class: 'actions' }, confirm, cancel),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    end.clearError();
    clearFieldError(reason);
    if (!end.value) {
      end.showError(t('interests.end_missing'));
      end.focus();
      return;
    }
    if (!reason.input.value) {
      showFieldError(reason, t('interests.reason_missing'));
      focusElement(reason.input);
      return;
    }
    onEnd(end.value, reason.input.value, confirm);
  });
  return { form, heading };
}

/**
 * Creates the list item of an interest. `member` is whether I am in its
 * discussion, `onChange(state, reason, button)` moves it on, and
 * `headingLevel` is the element name of the item's heading.
 */
export function interestItem(interest, { member, onChange, headingLevel = 'h3' }) {
  const ended = !ENDS[interest.state];
  const heading = h(headingLevel, {
    class: 'case-card__title',
    text: interestName(interest),
    attrs: { tabindex: '-1' },
  });
  const context = h('span', { class: 'visually-hidden', text: ` ${interestName(interest)}` });
  const stateLine = h(
    'p',
    { class: 'case-card__meta' },
    t('interests.state_label'),
    ' ',
    h('span', {
      class: `badge badge--interest-${ended ? 'ended' : 'open'}`,
      text: codeLabel('interest_state', interest.state),
    }),
    interest.reason
      ? ` ${t('interests.reason_line', { reason: codeLabel('end_reason', interest.reason) })}`
      : null,
  );
  const item = h(
    'li',
    { class: 'case-card', dataset: { interestId: interest.id, state: interest.state } },
    heading,
    caseLine('interests.child_label', interest.child),
    caseLine('interests.family_label', interest.family),
    stateLine,
    h('p', {
      class: 'case-card__meta',
      text: t('interests.times', {
        opened: formatTime(interest.opened_at),
        updated: formatTime(interest.updated_at),
      }),
    }),
  );
  if (!member) {
    item.append(h('p', { class: 'case-card__meta', text: t('interests.not_member') }));
    return { element: item, heading };
  }
  item.append(
    h(
      'p',
      {},
      h(
        'a',
        { href: `#/conversations/${interest.conversation_id}` },
        t('interests.discussion_link'),
        context.cloneNode(true),
      ),
    ),
  );
  if (ended) return { element: item, heading };

  const actions = h('div', { class: 'actions' });
  const next = NEXT_STATE[interest.state];
  if (next && mayDecide(interest, next)) {
    const nextButton = h(
      'button',
      { type: 'button', class: 'button' },
      t(`interests.next.${next}`),
      context.cloneNode(true),
    );
    nextButton.addEventListener('click', () => onChange(next, null, nextButton));
    actions.append(nextButton);
  }
  const openEnd = h(
    'button',
    { type: 'button', class: 'button button--secondary' },
    t('interests.end'),
    context.cloneNode(true),
  );
  const ending = endForm(interest, {
    headingLevel: `h${Number(headingLevel.slice(1)) + 1}`,
    onEnd: (end, reason, button) => onChange(end, reason, button),
    onCancel: () => {
      ending.form.hidden = true;
      actions.hidden = false;
      focusElement(openEnd);
    },
  });
  ending.form.hidden = true;
  openEnd.addEventListener('click', () => {
    actions.hidden = true;
    ending.form.hidden = false;
    focusElement(ending.heading);
  });
  actions.append(openEnd);
  item.append(actions, ending.form);
  return { element: item, heading };
}

/**
 * Creates a list of interests, whose items move an interest on or end it,
 * with the list's status and alert regions. `load()` fetches the interests
 * and shows those that `filter` accepts.
 */
export function interestList(
  ctx,
  { labelledBy, headingLevel = 'h3', filter = () => true, emptyText },
) {
  const notice = statusRegion();
  const alert = alertRegion();
  const list = h('ul', { class: 'case-list', attrs: { 'aria-labelledby': labelledBy } });
  const items = new Map();
  /** Ids of the conversations I am a member of, from the last load. */
  let myConversations = new Set();

  function show(interest) {
    const built = interestItem(interest, {
      member: myConversations.has(interest.conversation_id),
      headingLevel,
      onChange: (state, reason, button) => change(interest, state, reason, button),
    });
    const old = items.get(interest.id);
    if (old) old.element.replaceWith(built.element);
    else list.append(built.element);
    items.set(interest.id, built);
    return built;
  }

  let busy = false;
  async function change(interest, state, reason, button) {
    if (busy) return;
    busy = true;
    button.disabled = true;
    notice.textContent = '';
    alert.textContent = '';
    try {
      const updated = await setInterestState(interest.id, state, reason);
      if (ctx.signal.aborted) return;
      const built = show(updated);
      notice.textContent = t('interests.changed', {
        name: interestName(updated),
        state: codeLabel('interest_state', updated.state),
      });
      focusElement(built.heading);
    } catch (error) {
      if (ctx.signal.aborted) return;
      button.disabled = false;
      if (error.code === 'resource.conflict') {
        alert.textContent = t('interests.conflict');
        await load();
      } else if (error.code === 'resource.not_found') {
        alert.textContent = t('interests.change_not_found');
        await load();
      } else {
        alert.textContent = describeError(error);
      }
      focusElement(alert);
    } finally {
      busy = false;
    }
  }

  async function load() {
    notice.textContent = t('app.loading');
    try {
      const [all, conversations] = await Promise.all([fetchInterests(), fetchConversations()]);
      if (ctx.signal.aborted) return;
      ctx.chat.updateSummaries(conversations);
      myConversations = new Set(conversations.map((conversation) => conversation.id));
      const interests = all.filter(filter);
      items.clear();
      list.replaceChildren();
      for (const interest of interests) show(interest);
      if (interests.length === 0) list.append(h('li', { class: 'empty', text: emptyText }));
      notice.textContent = '';
    } catch (error) {
      if (ctx.signal.aborted) return;
      notice.textContent = '';
      alert.textContent = describeError(error);
    }
  }

  return { element: h('div', {}, notice, alert, list), load };
}

export async function mount(main, ctx) {
  const panel = sectionPage(main, ctx, { title: t('interests.title'), current: '#/interests' });
  if (!panel) return;
  panel.querySelector('h1').id = 'interests-heading';
  const interests = interestList(ctx, {
    labelledBy: 'interests-heading',
    headingLevel: 'h2',
    emptyText: t('interests.empty'),
  });
  panel.append(h('p', { text: t('interests.intro') }), interests.element);
  await interests.load();
}
