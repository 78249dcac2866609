import type { Messages } from '../i18n/messages.ts';

/**
 * A person's words for a User-Agent: "Firefox on Linux". Only the common browsers and systems
 * are told apart (the order matters: Edge and Opera also say Chrome, Chrome also says Safari);
 * the rest is an unknown browser. The exact string is no one's business on this page, and a
 * parser library would be a dependency for one line of text.
 */
const BROWSERS: [RegExp, string][] = [
  [/\bEdg(e|A|iOS)?\//, 'Edge'],
  [/\bOPR\/|\bOpera\b/, 'Opera'],
  [/\bFirefox\/|\bFxiOS\//, 'Firefox'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/Chrom(e|ium)\/|\bCriOS\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
  [/\bcurl\//, 'curl'],
];

const SYSTEMS: [RegExp, string][] = [
  [/\biPhone\b/, 'iPhone'],
  [/\biPad\b/, 'iPad'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
];

export function deviceName(userAgent: string, messages: Messages): string {
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1] ?? messages.t('account.unknownBrowser');
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  return system ? messages.t('account.deviceOn', { browser, system }) : browser;
}
