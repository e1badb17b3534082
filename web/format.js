// Formatting of dates, months, file sizes and browser descriptions for display.

import { currentLanguage, t } from './i18n.js';

/** Formats an RFC 3339 time as local time, with the date unless it is today. */
export function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const now = new Date();
  const sameDay = date.toDateString() === now.toDateString();
  const options = sameDay ? { timeStyle: 'short' } : { dateStyle: 'medium', timeStyle: 'short' };
  return new Intl.DateTimeFormat(currentLanguage(), options).format(date);
}

/** Formats the local day of an RFC 3339 time, such as "15 September 2026". */
export function formatDay(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(currentLanguage(), { dateStyle: 'long' }).format(date);
}

/** Formats an RFC 3339 time as local time, always with the date. */
export function formatDayAndTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(currentLanguage(), {
    dateStyle: 'long',
    timeStyle: 'short',
  }).format(date);
}

/**
 * Formats a calendar date, `YYYY-MM-DD`, such as "15 September 2026". The
 * date is read and written in UTC, so no time zone moves it to another day.
 */
export function formatDate(isoDate) {
  const date = new Date(`${isoDate}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return isoDate;
  return new Intl.DateTimeFormat(currentLanguage(), { dateStyle: 'long', timeZone: 'UTC' }).format(
    date,
  );
}

/** Returns the name of a month, 1 for January to 12 for December. */
export function monthName(month) {
  return new Intl.DateTimeFormat(currentLanguage(), { month: 'long', timeZone: 'UTC' }).format(
    new Date(Date.UTC(2000, month - 1, 1)),
  );
}

const BYTE_UNITS = [
  [1_000_000_000, 'gigabyte'],
  [1_000_000, 'megabyte'],
  [1_000, 'kilobyte'],
];

/** Formats a byte count in decimal units, such as "340 kB" or "5.1 MB". */
export function formatBytes(bytes) {
  for (const [size, unit] of BYTE_UNITS) {
    if (bytes >= size) {
      return new Intl.NumberFormat(currentLanguage(), {
        style: 'unit',
        unit,
        maximumFractionDigits: 1,
      }).format(bytes / size);
    }
  }
  return new Intl.NumberFormat(currentLanguage(), {
    style: 'unit',
    unit: 'byte',
    unitDisplay: 'long',
  }).format(bytes);
}

// Order matters: Edge and Opera user agents also contain "Chrome", and
// Chrome's contains "Safari".
const BROWSERS = [
  [/Edg(e|A|iOS)?\//, 'Microsoft Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/SamsungBrowser\//, 'Samsung Internet'],
  [/Firefox\/|FxiOS\//, 'Firefox'],
  [/Chrom(e|ium)\/|CriOS\//, 'Chrome'],
  [/Safari\//, 'Safari'],
];

const SYSTEMS = [
  [/Windows/, 'Windows'],
  [/Android/, 'Android'],
  [/iPhone|iPad|iPod/, 'iOS'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/CrOS/, 'ChromeOS'],
  [/Linux/, 'Linux'],
];

function firstMatch(table, text) {
  for (const [pattern, name] of table) {
    if (pattern.test(text)) return name;
  }
  return null;
}

/** Describes a User-Agent string as "Browser on System", or a catalogue fallback. */
export function describeUserAgent(userAgent) {
  const text = userAgent ?? '';
  const browser = firstMatch(BROWSERS, text);
  const system = firstMatch(SYSTEMS, text);
  if (browser && system) return t('sessions.browser_on_os', { browser, os: system });
  return browser ?? t('sessions.unknown_browser');
}
