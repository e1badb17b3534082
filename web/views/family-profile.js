// "My family profile" (#/my-profile), for a family who keeps its own
// profile: the profiles linked to its account, each linking to the case
// page, which shows it and offers to edit it.

import { fetchFamilyProfiles } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { caseItem } from './cases.js';
import { alertRegion, describeError, pageHeading, statusRegion } from './common.js';
import { isFamilyAccount } from './family-finding.js';

export async function mount(main, ctx) {
  const title = t('family_profile.title');
  ctx.setTitle(title);
  const panel = h('section', { class: 'panel' }, pageHeading(title));
  main.append(panel);
  if (!isFamilyAccount(ctx.user)) {
    panel.append(h('p', { text: t('family_profile.families_only') }));
    return;
  }

  const loading = statusRegion();
  const alert = alertRegion();
  const list = h('ul', { class: 'case-list', attrs: { 'aria-labelledby': 'family-profiles' } });
  panel.append(
    h('p', { text: t('family_profile.intro') }),
    h('h2', { id: 'family-profiles', text: t('family_profile.list_heading') }),
    loading,
    alert,
    list,
  );

  loading.textContent = t('app.loading');
  try {
    const summaries = await fetchFamilyProfiles();
    if (ctx.signal.aborted) return;
    list.replaceChildren(...summaries.map((summary) => caseItem(summary)));
    if (summaries.length === 0) {
      list.append(h('li', { class: 'empty', text: t('family_profile.empty') }));
    }
  } catch (error) {
    if (!ctx.signal.aborted) alert.textContent = describeError(error);
  } finally {
    if (!ctx.signal.aborted) loading.textContent = '';
  }
}
