import { en, type MessageKey } from './en.ts';
import { CATALOGUES, type Language } from './catalogues.ts';

/** Markup a page may insert into a message as it is (built by strong() and link(), which escape). */
export class Html {
  readonly markup: string;
  constructor(markup: string) {
    this.markup = markup;
  }
}

type HtmlKey = Extract<MessageKey, `${string}Html`>;
type TextKey = Exclude<MessageKey, HtmlKey>;
type Params = Readonly<Record<string, string | number>>;

/** The messages of one language, as the views and routes use them. */
export interface Messages {
  readonly lang: Language;
  /** Plain text (the page escapes it), its {parameters} filled in. */
  t(key: TextKey, params?: Params): string;
  /** Markup: the message escaped, text parameters escaped, Html parameters inserted as built. */
  html(key: HtmlKey, params: Readonly<Record<string, string | number | Html>>): string;
}

export function messagesFor(lang: Language): Messages {
  return messagesFrom(lang, CATALOGUES[lang]);
}

/** The messages of a catalogue that may still lack some (a language being translated). */
export function messagesFrom(lang: Language, catalogue: Partial<Record<MessageKey, string>>): Messages {
  // Never a key name on a page: a message this language lacks is shown in English.
  const message = (key: MessageKey) => catalogue[key] ?? en[key];
  return {
    lang,
    t: (key, params = {}) => fill(message(key), (name) => (name in params ? String(params[name]) : undefined)),
    html: (key, params) => fill(escapeHtml(message(key)), (name) => {
      const value = params[name];
      if (value === undefined) return undefined;
      return value instanceof Html ? value.markup : escapeHtml(String(value));
    }),
  };
}

/** Text shown in bold (a client's or a person's name inside a sentence). */
export function strong(text: string): Html {
  return new Html(`<strong>${escapeHtml(text)}</strong>`);
}

/** A link whose text is the address itself unless told otherwise. */
export function link(href: string, text = href): Html {
  return new Html(`<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`);
}

function fill(template: string, value: (name: string) => string | undefined): string {
  return template.replace(/\{(\w+)\}/g, (placeholder, name: string) => value(name) ?? placeholder);
}

// As EJS escapes a <%= %> value, so that a name reads the same in a message and elsewhere.
const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}
