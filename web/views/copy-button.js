// A button that copies text to the clipboard, for keys, codes and commands
// that people paste somewhere else.

import { h } from '../dom.js';
import { t } from '../i18n.js';

/** Selects the text of `element`, so that it can be copied by keyboard. */
function selectContents(element) {
  const range = document.createRange();
  range.selectNodeContents(element);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

/**
 * Creates a button that copies `text()` to the clipboard and reports the
 * outcome in `status` with the catalogue text of `copiedKey`. Where the
 * browser does not allow copying, the button selects the text of `source`
 * instead and reports that with the text of `failedKey`.
 */
export function copyButton({ label, text, source, status, copiedKey, failedKey }) {
  return h('button', {
    type: 'button',
    class: 'button button--secondary',
    text: label,
    on: {
      click: async () => {
        status.textContent = '';
        try {
          await navigator.clipboard.writeText(text());
          status.textContent = t(copiedKey);
        } catch {
          selectContents(source);
          status.textContent = t(failedKey);
        }
      },
    },
  });
}
