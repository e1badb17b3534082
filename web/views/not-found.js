// Shown for a route the page does not have.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { pageHeading } from './common.js';

export function mount(main, ctx) {
  ctx.setTitle(t('not_found.title'));
  main.append(
    h(
      'section',
      { class: 'panel' },
      pageHeading(t('not_found.title')),
      h('p', { text: t('not_found.body') }),
      h('p', {}, h('a', { href: '#/conversations', text: t('not_found.link') })),
    ),
  );
}
