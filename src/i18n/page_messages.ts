import type { Context } from 'koa';
import { chooseLanguage } from './language.ts';
import { messagesFor, type Messages } from './messages.ts';

/**
 * The messages for the page this request gets: in the language of the authorization request's
 * `ui_locales` when there is one (interaction and logout pages), else the browser's. The answer
 * says which language it is in and that it depends on Accept-Language (for caches).
 */
export function pageMessages(ctx: Context, uiLocales?: unknown): Messages {
  const messages = messagesFor(chooseLanguage(uiLocales, ctx.get('accept-language')));
  ctx.set('Content-Language', messages.lang);
  ctx.vary('Accept-Language');
  return messages;
}
