import type { Catalogue } from './en.ts';
import { en } from './en.ts';
import { fr } from './fr.ts';

/**
 * Every language the pages are offered in, by its primary language subtag (RFC 5646). A
 * language being translated may be a Partial<Catalogue> for a while: its missing messages are
 * shown in English, and test/unit/i18n.test.ts fails, naming them.
 */
export const CATALOGUES = { en, fr } as const satisfies Readonly<Record<string, Partial<Catalogue>>>;

export type Language = keyof typeof CATALOGUES;

export const DEFAULT_LANGUAGE: Language = 'en';

export function isLanguage(tag: string): tag is Language {
  return Object.hasOwn(CATALOGUES, tag);
}
