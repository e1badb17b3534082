// The moderator's form for one post, on the topic page and in the reports
// queue: hide, remove or restore it, with a reason that its author reads.
// A visible post can be hidden or removed, a hidden one restored or
// removed. A removed post's text is deleted, so it has no form.

import { moderatePost } from '../community-api.js';
import { t } from '../i18n.js';
import { SHORT_TEXT_MAX_CHARS } from './community-parts.js';
import { reasonForm } from './community-reason-form.js';

/** The actions a moderator can take on a post, by the post's state. */
const ACTIONS_BY_STATE = {
  visible: ['hide', 'remove'],
  hidden: ['restore', 'remove'],
};

/**
 * Creates the form for `post`, or null for a post in a state it does not handle.
 * `id` is the base of its element ids, `done(post, action)` runs with the
 * post as the server returned it, and `cancel()` (optional) closes the form.
 * Returns `{ element, focus() }`.
 */
export function postModerationForm({
  post,
  membership,
  id = `post-${post.id}-moderate`,
  done,
  cancel,
}) {
  const actions = ACTIONS_BY_STATE[post.state];
  if (!actions) return null;
  return reasonForm({
    id,
    label: t('community.moderate.form_label', { name: post.author?.display_name ?? '' }),
    legend: t('community.moderate.action_legend'),
    choices: actions.map((value) => ({ value, label: t(`community.moderate.action.${value}`) })),
    reasonLabel: t('community.moderate.reason_label'),
    reasonHint: t('community.moderate.reason_hint', { max: SHORT_TEXT_MAX_CHARS }),
    submitLabel: t('community.moderate.submit'),
    membership,
    cancel,
    submit: async ({ action, reason }) => {
      const moderated = await moderatePost(post.id, action, reason);
      done(moderated, action);
    },
  });
}
