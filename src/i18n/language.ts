import { DEFAULT_LANGUAGE, isLanguage, type Language } from './catalogues.ts';

/**
 * The language of a page: the first offered one of the authorization request's `ui_locales`
 * (space-separated, most preferred first; OpenID Connect Core 3.1.2.1), else of the browser's
 * Accept-Language by its q-values (RFC 9110 12.5.4), else English. Tags match on their primary
 * subtag: fr-CA is served French. Relying parties write ui_locales as their platform spells a
 * locale (Java's fr_FR, a comma-separated list): read so, rather than ignored for English.
 */
export function chooseLanguage(uiLocales: unknown, acceptLanguage: string | undefined): Language {
  const requested = typeof uiLocales === 'string' ? uiLocales.split(/[\s,]+/) : [];
  return [...requested, ...byPreference(acceptLanguage ?? '')].map(primarySubtag).find(isLanguage) ?? DEFAULT_LANGUAGE;
}

/** The tags of an Accept-Language header, most preferred first; q=0 means "not this one". */
function byPreference(header: string): string[] {
  return header.split(',')
    .map((entry, position) => {
      const [tag = '', ...parameters] = entry.split(';').map((part) => part.trim());
      const q = parameters.find((parameter) => /^q=/i.test(parameter));
      const quality = q === undefined ? 1 : Number(q.slice(2));
      return { tag, quality: Number.isFinite(quality) ? quality : 0, position };
    })
    .filter((entry) => entry.tag && entry.quality > 0)
    .sort((a, b) => b.quality - a.quality || a.position - b.position)
    .map((entry) => entry.tag);
}

function primarySubtag(tag: string): string {
  return tag.split(/[-_]/)[0]!.toLowerCase();
}
