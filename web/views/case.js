// One case (#/cases/<id>): its profile with its photos and video, and for
// my organisation's own case its publication and suggested matches. A
// child case also has the form that expresses a family's interest, and a
// family case of another organisation shows how it fits my child cases.
// Interests in the case come next. Managers of the owning organisation
// then find the transfer to another organisation, the legal hold and the
// erasure. A family case of my organisation also shows whether the family
// keeps the profile itself.
// A family who keeps its own profile sees that profile with its photos, and
// a link to edit it, but no other area.
// A case that does not exist or that my organisation may not see gets a
// page of its own, as the server does not tell the two apart.

import { fetchCase } from '../api.js';
import { focusElement, h } from '../dom.js';
import { t } from '../i18n.js';
import { familyAccountArea } from './case-family-account.js';
import { interestArea } from './case-interest.js';
import { fitArea, matchesArea } from './case-matches.js';
import { mediaArea } from './case-media.js';
import { profileList } from './case-profile.js';
import { publicationArea } from './case-publication.js';
import { retentionAreas } from './case-retention.js';
import { transferArea } from './case-transfer.js';
import { alertRegion, describeError, pageHeading, statusRegion } from './common.js';
import {
  casePage,
  codeLabel,
  isFamilyAccount,
  isManager,
  MARKED_CASES_ROUTE,
  profileTitle,
} from './family-finding.js';
import { interestList } from './interests.js';

function showNotFound(panel, ctx) {
  const title = t('case.not_found_title');
  ctx.setTitle(title);
  panel.replaceChildren(
    pageHeading(title),
    h('p', { text: t('case.not_found_body') }),
    h('p', {}, backLink(ctx)),
  );
  refocus(panel);
}

/** Creates the link back to the list of cases, or to a family's own profiles. */
function backLink(ctx) {
  if (isFamilyAccount(ctx.user)) {
    return h('a', { href: '#/my-profile', text: t('family_profile.back') });
  }
  return h('a', { href: '#/cases', text: t('case.back') });
}

/** Moves focus to the new heading when the element that had focus went with the old page. */
function refocus(panel) {
  if (document.activeElement === document.body) focusElement(panel.querySelector('h1'));
}

/** Replaces the page with the outcome of a transfer, since my organisation no longer owns the case. */
function showTransferred(panel, ctx, title, transfer) {
  const heading = t('transfer.done_title');
  ctx.setTitle(heading);
  const status = statusRegion();
  panel.replaceChildren(
    pageHeading(heading),
    status,
    h('p', { text: t('transfer.done_body') }),
    h('p', {}, h('a', { href: '#/cases', text: t('case.back') })),
  );
  status.textContent = t('transfer.done', {
    title,
    organisation: transfer.to_organisation?.name ?? '',
  });
  refocus(panel);
}

function interestsArea(ctx, loaded) {
  const interests = interestList(ctx, {
    labelledBy: 'case-interests-heading',
    headingLevel: 'h3',
    filter: (interest) => interest.child.id === loaded.id || interest.family.id === loaded.id,
    emptyText: t('case.interests_empty'),
  });
  interests.load();
  return h(
    'section',
    { class: 'ff-section', attrs: { 'aria-labelledby': 'case-interests-heading' } },
    h('h2', { id: 'case-interests-heading', text: t('case.interests_title') }),
    interests.element,
  );
}

/** Creates the areas of the page below the heading, in order, for `loaded`. */
function areas(ctx, panel, loaded, title) {
  const parts = [];
  const family = isFamilyAccount(ctx.user);
  const organisation = loaded.organisation?.name ?? '';
  let kindLine = t(`case.kind_line.${loaded.kind === 'family' ? 'family' : 'child'}`, {
    organisation,
  });
  if (family) kindLine = t('case.kind_line.own_family', { organisation });
  parts.push(
    h(
      'p',
      { class: 'case__kind' },
      kindLine,
      ' ',
      h('span', { class: 'badge', text: codeLabel('case_status', loaded.status) }),
    ),
  );
  if (loaded.names_hidden) {
    parts.push(h('p', { class: 'callout', text: t('case.names_hidden') }));
  }
  if (loaded.may_edit) {
    parts.push(
      h(
        'p',
        {},
        h('a', { href: `#/cases/${loaded.id}/edit`, class: 'button', text: t('case.edit') }),
      ),
    );
  } else if (family) {
    parts.push(h('p', { text: t('case.family_edit_off', { organisation }) }));
  }
  parts.push(
    h(
      'section',
      { class: 'ff-section', attrs: { 'aria-labelledby': 'case-profile-heading' } },
      h('h2', { id: 'case-profile-heading', text: t('case.profile_title') }),
      profileList(loaded),
    ),
  );
  parts.push(mediaArea(ctx, loaded).element);
  // Publication, matches, interests and transfers are for workers only.
  if (family) return parts;
  if (loaded.own && loaded.kind === 'family' && loaded.family_account) {
    parts.push(familyAccountArea(ctx, loaded).element);
  }
  if (loaded.own) {
    parts.push(publicationArea(ctx, loaded).element);
    parts.push(matchesArea(ctx, loaded).element);
  } else if (loaded.kind === 'family') {
    parts.push(fitArea(ctx, loaded).element);
  }
  if (loaded.kind === 'child') parts.push(interestArea(ctx, loaded).element);
  parts.push(interestsArea(ctx, loaded));
  if (loaded.own && isManager(ctx.user)) {
    const onTransferred = (transfer) => showTransferred(panel, ctx, title, transfer);
    parts.push(transferArea(ctx, loaded, title, onTransferred).element);
    const onErased = () => {
      location.hash = MARKED_CASES_ROUTE;
    };
    parts.push(...retentionAreas(ctx, loaded, title, onErased));
  }
  return parts;
}

export async function mount(main, ctx, [caseId]) {
  const panel = casePage(main, ctx, { title: t('case.loading_title'), current: '#/cases' });
  if (!panel) return;
  const loading = statusRegion();
  const alert = alertRegion();
  panel.append(loading, alert);
  loading.textContent = t('app.loading');

  let loaded;
  try {
    loaded = await fetchCase(caseId);
  } catch (error) {
    if (ctx.signal.aborted) return;
    loading.textContent = '';
    if (error.code === 'resource.not_found') showNotFound(panel, ctx);
    else alert.textContent = describeError(error);
    return;
  }
  if (ctx.signal.aborted) return;

  const title = profileTitle(loaded);
  ctx.setTitle(title);
  panel.querySelector('h1').textContent = title;
  loading.remove();
  panel.append(...areas(ctx, panel, loaded, title));
}
