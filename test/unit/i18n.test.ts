import { en, type MessageKey } from '../../src/i18n/en.ts';
import { CATALOGUES } from '../../src/i18n/catalogues.ts';
import { chooseLanguage } from '../../src/i18n/language.ts';
import { link, messagesFor, messagesFrom, strong } from '../../src/i18n/messages.ts';
import { describeScope } from '../../src/i18n/scope_descriptions.ts';
import { scopeCatalogue } from '../../src/policy/scope_catalogue.ts';

const englishKeys = Object.keys(en).sort();
const placeholders = (message: string) => [...message.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe.each(Object.entries(CATALOGUES).filter(([lang]) => lang !== 'en'))('the %s catalogue', (_lang, catalogue) => {
  const messages: Partial<Record<string, string>> = catalogue;

  test('has every English message (a missing one would be shown in English)', () => {
    expect(englishKeys.filter((key) => !messages[key]?.trim())).toEqual([]);
  });

  test('has no message English does not have', () => {
    expect(Object.keys(messages).filter((key) => !(key in en))).toEqual([]);
  });

  test('fills in the same parameters as English', () => {
    const differ = englishKeys.filter((key) => messages[key] !== undefined && placeholders(messages[key]!).join() !== placeholders(en[key as MessageKey]).join());
    expect(differ).toEqual([]);
  });
});

test.each([
  ['ui_locales names an offered language', 'fr', undefined, 'fr'],
  ['ui_locales: the first offered one, with region subtags', 'de-DE fr-CA en', undefined, 'fr'],
  ['ui_locales wins over Accept-Language', 'en', 'fr-FR,fr;q=0.9', 'en'],
  ['ui_locales as a Java locale (fr_FR)', 'fr_FR', 'en', 'fr'],
  ['ui_locales as a comma-separated list', 'de,fr', 'en', 'fr'],
  ['no offered ui_locales: Accept-Language decides', 'de', 'fr-FR,fr;q=0.9,en;q=0.8', 'fr'],
  ['Accept-Language by q-value, not by order', undefined, 'en;q=0.5, fr;q=0.9', 'fr'],
  ['equal q-values: the first listed', undefined, 'fr, en', 'fr'],
  ['q=0 refuses a language', undefined, 'fr;q=0, de', 'en'],
  ['an unknown language: English', undefined, 'de-DE,de;q=0.9', 'en'],
  ['a malformed header: English', undefined, ';;;,q=x', 'en'],
  ['nothing asked: English', undefined, undefined, 'en'],
])('%s', (_case, uiLocales, acceptLanguage, expected) => {
  expect(chooseLanguage(uiLocales, acceptLanguage)).toBe(expected);
});

test('a message missing from a catalogue is shown in English, never as its key', () => {
  const partial = messagesFrom('fr', { 'consent.allow': 'Autoriser' });
  expect(partial.t('consent.allow')).toBe('Autoriser');
  expect(partial.t('consent.deny')).toBe('Deny');
  expect(partial.html('consent.asksToHtml', { client: strong('Portal') })).toBe('<strong>Portal</strong> asks to:');
});

test('parameters are escaped in markup messages; built links and bold text are inserted', () => {
  const messages = messagesFor('en');
  expect(messages.html('consent.signedInAsHtml', { name: strong('<b>Eve</b>'), username: 'e"ve' })).toBe('Signed in as <strong>&lt;b&gt;Eve&lt;/b&gt;</strong> (e&#34;ve)');
  expect(messages.html('consent.withdrawHtml', { link: link('https://id.example.edu/account') })).toBe('You can remove access at any time at <a href="https://id.example.edu/account">https://id.example.edu/account</a>.');
  expect(messages.t('consent.remembered', { days: 30 })).toContain('30 days');
});

test('built-in scopes are described in the page language; an enterprise scope as the operator wrote it', () => {
  const catalogue = scopeCatalogue('auth-cas', [{ name: 'grades', description: 'Your grades' }]);
  const french = messagesFor('fr');
  expect(describeScope('email', catalogue.get('email'), french)).toBe('Votre adresse e-mail');
  expect(describeScope('auth-cas', catalogue.get('auth-cas'), french)).toBe('Vous connecter avec votre compte de l’établissement');
  expect(describeScope('grades', catalogue.get('grades'), french)).toBe('Your grades');
  expect(describeScope('email', catalogue.get('email'), messagesFor('en'))).toBe('Your email address');
  // The CLI prints the English description.
  expect(catalogue.get('email')!.description).toBe('Your email address');
});
