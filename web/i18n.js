// Message catalogue: every string the page shows comes from a JSON file under
// /static/i18n/, keyed by stable codes. The server's error codes are keys too
// (prefixed `error.`), so a translation covers server errors as well.
//
// Adding a language means dropping `<tag>.json` next to en-GB.json. Keys a
// translation lacks fall back to British English.

const FALLBACK_LANGUAGE = 'en-GB';
const LANGUAGE_SETTING_KEY = 'kinlink.lang';

// Language tags in BCP 47 form, as the catalogue file names use them. Anything
// else is ignored, so a setting cannot point the fetch at another path.
const LANGUAGE_TAG = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

let catalogue = {};
let activeLanguage = FALLBACK_LANGUAGE;
let pluralRules = new Intl.PluralRules(FALLBACK_LANGUAGE);
const reportedMissingKeys = new Set();

/** Returns the languages to try, best first: the user's setting, then `<html lang>`. */
export function preferredLanguages() {
  const candidates = [];
  try {
    candidates.push(localStorage.getItem(LANGUAGE_SETTING_KEY));
  } catch {
    // Browser settings can block storage, and then the page language applies.
  }
  candidates.push(document.documentElement.lang);

  const tags = [];
  for (const candidate of candidates) {
    if (!candidate || !LANGUAGE_TAG.test(candidate)) continue;
    tags.push(candidate);
    const base = candidate.split('-')[0];
    if (base !== candidate) tags.push(base);
  }
  return [...new Set(tags)];
}

async function fetchCatalogue(language) {
  const response = await fetch(`/static/i18n/${language}.json`, { cache: 'no-cache' });
  if (!response.ok) return null;
  return response.json();
}

/**
 * Loads the first available catalogue among `languages` on top of the
 * British English one, and sets `<html lang>` to the language loaded.
 */
export async function loadCatalogue(languages) {
  const fallback = await fetchCatalogue(FALLBACK_LANGUAGE);
  if (!fallback) throw new Error(`message catalogue ${FALLBACK_LANGUAGE}.json failed to load`);
  catalogue = fallback;
  activeLanguage = FALLBACK_LANGUAGE;

  for (const language of languages) {
    if (language === FALLBACK_LANGUAGE) break;
    let translated = null;
    try {
      translated = await fetchCatalogue(language);
    } catch (error) {
      console.warn(`message catalogue ${language}.json is not valid JSON`, error);
    }
    if (translated) {
      catalogue = { ...fallback, ...translated };
      activeLanguage = language;
      break;
    }
  }

  pluralRules = new Intl.PluralRules(activeLanguage);
  document.documentElement.lang = activeLanguage;
}

/** Returns the language of the loaded catalogue, for date and number formatting. */
export function currentLanguage() {
  return activeLanguage;
}

export function hasMessage(key) {
  return Object.hasOwn(catalogue, key);
}

/** Looks up `key` and fills `{name}` placeholders from `params`. */
export function t(key, params = {}) {
  let text = catalogue[key];
  if (text === undefined) {
    if (!reportedMissingKeys.has(key)) {
      reportedMissingKeys.add(key);
      console.warn(`message catalogue has no key ${key}`);
    }
    text = key;
  }
  return text.replace(/\{(\w+)\}/g, (placeholder, name) =>
    Object.hasOwn(params, name) ? String(params[name]) : placeholder,
  );
}

/**
 * Looks up the plural form of `key` for `count` (`key.one`, `key.other`, and
 * for Welsh also `key.zero`, `key.two`, `key.few`, `key.many`).
 */
export function tPlural(key, count, params = {}) {
  const form = pluralRules.select(count);
  const formKey = hasMessage(`${key}.${form}`) ? `${key}.${form}` : `${key}.other`;
  return t(formKey, { ...params, count });
}

/**
 * Returns the catalogue text for a protocol error code, or the more specific
 * text for `field` when the catalogue has one.
 */
export function errorText(code, field) {
  if (field && hasMessage(`error.${code}.${field}`)) return t(`error.${code}.${field}`);
  if (code && hasMessage(`error.${code}`)) return t(`error.${code}`);
  return t('error.unknown');
}

/**
 * Fills static markup from the catalogue: `data-i18n` sets the text and
 * `data-i18n-aria-label` sets the aria-label.
 */
export function translateStaticText(root) {
  for (const element of root.querySelectorAll('[data-i18n]')) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of root.querySelectorAll('[data-i18n-aria-label]')) {
    element.setAttribute('aria-label', t(element.dataset.i18nAriaLabel));
  }
}
