// The supervising practitioner's view of a letter: its text with the
// findings marked, the findings with the protected term each matched, the
// earlier versions, and, while the letter waits for review, the three
// decisions: release it, return it for amendment, or hold it on file. The
// last two need a reason, which the writer sees.

import { decideLetter } from '../api.js';
import { focusElement, h } from '../dom.js';
import { formatTime } from '../format.js';
import { t } from '../i18n.js';
import { describeError } from './common.js';
import { clearFieldError, field, showFieldError } from './fields.js';
import {
  agreementNotice,
  callout,
  fillFindings,
  letterAttachments,
  letterStatusText,
  markedBody,
  memberName,
  readReceipts,
  sideText,
} from './letter-parts.js';

/** Decisions in the order their buttons appear, with their catalogue keys. */
const DECISIONS = [
  { decision: 'release', button: 'review.release', done: 'review.done.release' },
  { decision: 'return', button: 'review.return', done: 'review.done.return' },
  { decision: 'hold', button: 'review.hold', done: 'review.done.hold' },
];

function details(letter) {
  const rows = [
    [
      t('review.writer'),
      t('review.writer_value', { name: letter.writer_name, side: sideText(letter.writer_side) }),
    ],
    [t('review.status'), letterStatusText(letter.status)],
    [t('review.version'), String(letter.version)],
  ];
  if (letter.submitted_at) rows.push([t('review.submitted'), formatTime(letter.submitted_at)]);
  if (letter.released_at) rows.push([t('review.released'), formatTime(letter.released_at)]);
  // A resubmitted letter keeps the reason it was last returned with.
  if (letter.status === 'submitted' && letter.reason) {
    rows.push([t('review.last_reason'), letter.reason]);
  }
  return h(
    'dl',
    { class: 'letter__details' },
    rows.flatMap(([term, value]) => [h('dt', { text: term }), h('dd', { text: value })]),
  );
}

function findingList(label, letter, files) {
  const list = h('ul', { class: 'finding-list', attrs: { 'aria-label': label } });
  fillFindings(list, {
    body: letter.body ?? '',
    findings: letter.findings,
    attachmentFindings: letter.attachment_findings,
    attachments: letter.attachments,
    files,
  });
  return list;
}

/** Creates the earlier versions, each folded away under its number and time. */
function versionsSection(letter) {
  const versions = [...(letter.versions ?? [])].sort((a, b) => b.version - a.version);
  const items = versions.map((version) => {
    const summary = t('review.version_summary', {
      version: version.version,
      time: version.submitted_at ? formatTime(version.submitted_at) : '',
    });
    const findingsLabel = t('review.version_findings', { version: version.version });
    return h(
      'details',
      { class: 'letter-version' },
      h('summary', { class: 'letter-version__summary', text: summary }),
      markedBody(version.body ?? '', version.findings),
      h('p', { class: 'letter-version__findings-label', text: findingsLabel }),
      findingList(findingsLabel, { ...version, attachment_findings: [] }, null),
    );
  });
  return h(
    'section',
    { class: 'letter-versions', attrs: { 'aria-labelledby': 'versions-heading' } },
    h('h2', { id: 'versions-heading', text: t('review.versions_heading') }),
    items.length > 0 ? items : h('p', { class: 'empty', text: t('review.versions_none') }),
  );
}

/** Creates the decision form of a submitted letter. */
function decisionForm(page, letter) {
  const reasonField = field({
    id: 'decision-reason',
    name: 'reason',
    tag: 'textarea',
    label: t('review.reason_label'),
    hint: t('review.reason_hint'),
    attrs: { maxlength: 2000 },
  });
  reasonField.input.rows = 4;
  const buttons = DECISIONS.map((choice) =>
    h('button', {
      type: 'button',
      class: choice.decision === 'release' ? 'button' : 'button button--secondary',
      text: t(choice.button),
    }),
  );

  let busy = false;
  async function decide(choice) {
    if (busy) return;
    clearFieldError(reasonField);
    page.alert.textContent = '';
    const reason = reasonField.input.value.trim();
    if (choice.decision !== 'release' && !reason) {
      showFieldError(reasonField, t('review.reason_missing'));
      focusElement(reasonField.input);
      return;
    }
    busy = true;
    for (const button of buttons) button.disabled = true;
    try {
      const reasonToSend = choice.decision === 'release' ? null : reason;
      const decided = await decideLetter(letter.id, choice.decision, reasonToSend);
      if (page.ctx.signal.aborted) return;
      page.show(decided, { message: t(choice.done), focusStatus: true });
    } catch (error) {
      if (page.ctx.signal.aborted) return;
      if (error.code === 'resource.conflict') {
        page.reload({ message: t('review.conflict'), focusStatus: true });
      } else if (error.code === 'request.invalid_field' && error.field === 'reason') {
        showFieldError(reasonField, t('review.reason_invalid'));
        focusElement(reasonField.input);
      } else {
        page.alert.textContent = describeError(error);
      }
    } finally {
      busy = false;
      for (const button of buttons) button.disabled = false;
    }
  }
  DECISIONS.forEach((choice, index) => {
    buttons[index].addEventListener('click', () => decide(choice));
  });

  return h(
    'section',
    { class: 'letter-decision', attrs: { 'aria-labelledby': 'decision-heading' } },
    h('h2', { id: 'decision-heading', text: t('review.decision_heading') }),
    h('p', { class: 'field__hint', text: t('review.decision_intro') }),
    h(
      'form',
      {
        class: 'letter-decision__form',
        noValidate: true,
        // Each decision has its own button, so the form itself never submits.
        on: { submit: (event) => event.preventDefault() },
      },
      reasonField.wrapper,
      h('div', { class: 'actions' }, buttons),
    ),
  );
}

/** Creates the notice of a decided letter: returned, held, or released with its reads. */
function decidedCallout(letter, nameOf) {
  if (letter.status === 'returned') {
    return callout({
      title: t('letter.status.returned'),
      sentences: [t('review.state.returned')],
      reason: letter.reason,
    });
  }
  if (letter.status === 'held') {
    return callout({
      title: t('letter.status.held'),
      sentences: [t('review.state.held')],
      reason: letter.reason,
    });
  }
  if (letter.status === 'released') {
    const element = callout({
      title: t('letter.status.released'),
      sentences: [t('review.state.released')],
    });
    element.append(readReceipts(letter, nameOf) ?? h('p', { text: t('review.not_read') }));
    return element;
  }
  return null;
}

/** Creates the supervisor's review of `letter`. */
export function reviewView(page, letter, summary, agreement) {
  const files = page.ctx.chat.files;
  const nameOf = (userId) => memberName(summary, agreement, userId);
  const attachments = letterAttachments(letter.attachments, files);
  const findingsLabel = t('findings.title');
  const findings = findingList(findingsLabel, letter, files);
  const onFileChange = () => {
    fillFindings(findings, {
      body: letter.body ?? '',
      findings: letter.findings,
      attachmentFindings: letter.attachment_findings,
      attachments: letter.attachments,
      files,
    });
  };
  files.addEventListener('change', onFileChange);

  const element = h(
    'div',
    { class: 'letter-review' },
    agreement?.status === 'active' ? null : agreementNotice(agreement),
    decidedCallout(letter, nameOf),
    details(letter),
    h(
      'section',
      { class: 'letter', attrs: { 'aria-labelledby': 'letter-text-heading' } },
      h('h2', { id: 'letter-text-heading', text: t('review.letter_heading') }),
      markedBody(letter.body ?? '', letter.findings),
      attachments?.element,
    ),
    h(
      'section',
      { class: 'findings', attrs: { 'aria-labelledby': 'findings-heading' } },
      h('h2', { id: 'findings-heading', text: findingsLabel }),
      h('p', { class: 'field__hint', text: t('findings.intro_reviewer') }),
      findings,
    ),
    versionsSection(letter),
    letter.status === 'submitted' ? decisionForm(page, letter) : null,
    h(
      'p',
      {},
      h('a', {
        href: `#/conversations/${letter.conversation_id}/timeline`,
        class: 'letters__timeline-link',
        text: t('letters.timeline_link'),
      }),
    ),
  );
  return {
    element,
    dispose() {
      files.removeEventListener('change', onFileChange);
      attachments?.dispose();
    },
  };
}
