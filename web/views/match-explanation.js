// Explanation of a match suggestion: the score in words, and each of the
// seven criteria met or not with what the child needs and what the family
// offers. The server writes `needed` and `offered` as codes, numbers,
// age ranges such as "4–7" and phrases such as "up to 2", which are
// turned into catalogue text here.

import { h } from '../dom.js';
import { currentLanguage, hasMessage, t, tPlural } from '../i18n.js';
import { agesText, codeLabel } from './family-finding.js';

const UP_TO = /^up to (.+)$/;
const AGE_RANGE = /^(\d+)(?:–(\d+))?$/;

function listText(items) {
  return new Intl.ListFormat(currentLanguage(), { type: 'conjunction' }).format(items);
}

/** Turns one side of a criterion, as the server writes it, into catalogue text. */
function valueText(criterion, value) {
  const text = String(value ?? '');
  const upTo = text.match(UP_TO);
  if (criterion === 'plan') {
    return listText(text.split(', ').map((plan) => codeLabel('plan', plan)));
  }
  if (criterion === 'region') return codeLabel('region', text);
  if (criterion === 'ages') {
    const range = text.match(AGE_RANGE);
    if (range) return agesText(Number(range[1]), Number(range[2] ?? range[1]));
  }
  if (criterion === 'group_size') {
    if (upTo && /^\d+$/.test(upTo[1])) return tPlural('matches.up_to_children', Number(upTo[1]));
    if (/^\d+$/.test(text)) return tPlural('matches.children', Number(text));
  }
  if (criterion.startsWith('needs.')) {
    if (upTo) return codeLabel('need_up_to', upTo[1]);
    return codeLabel('need', text);
  }
  return text;
}

/** Returns the catalogue key part of a criterion's detail line. */
function detailKey(name) {
  const key = `matches.detail.${name.startsWith('needs.') ? 'needs' : name}`;
  return hasMessage(key) ? key : 'matches.detail.other';
}

/** Returns the score of a suggestion in words, such as "Meets 5 of 7 criteria, 75%". */
export function scoreText(suggestion) {
  const criteria = suggestion.criteria ?? [];
  const met = criteria.filter((criterion) => criterion.met);
  const weight = (list) => list.reduce((sum, criterion) => sum + (criterion.weight ?? 0), 0);
  return t('matches.score', {
    met: met.length,
    total: criteria.length,
    score: suggestion.score,
    met_weight: weight(met),
    total_weight: weight(criteria),
  });
}

/** Creates the list of a suggestion's criteria, each marked met or not met. */
export function criteriaList(criteria) {
  return h(
    'ul',
    { class: 'criteria' },
    (criteria ?? []).map((criterion) =>
      h(
        'li',
        { class: criterion.met ? 'criterion criterion--met' : 'criterion' },
        h(
          'span',
          { class: criterion.met ? 'badge badge--met' : 'badge badge--not-met' },
          t(criterion.met ? 'matches.met' : 'matches.not_met'),
        ),
        ' ',
        h('strong', { text: codeLabel('criterion', criterion.name) }),
        h('span', {
          class: 'criterion__detail',
          text: t(detailKey(criterion.name), {
            needed: valueText(criterion.name, criterion.needed),
            offered: valueText(criterion.name, criterion.offered),
          }),
        }),
      ),
    ),
  );
}
