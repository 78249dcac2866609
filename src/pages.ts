import { fileURLToPath } from 'node:url';
import ejs from 'ejs';
import type { Context } from 'koa';
import { link, strong, type Messages } from './i18n/messages.ts';
import { pageMessages } from './i18n/page_messages.ts';
import { codeExplanation, explanationOf } from './i18n/explained_error.ts';

const VIEWS = fileURLToPath(new URL('../views/', import.meta.url));

/**
 * Renders views/NAME.ejs inside views/layout.ejs, in the language of `messages`: the views get
 * `t(key, params)` for text, `html(key, params)` for a message holding `strong(text)` or
 * `link(href, text)`, and `lang`. EJS escapes every `<%= %>` value.
 */
export async function renderPage(name: string, messages: Messages, data: Record<string, unknown> & { title: string }): Promise<string> {
  const locals = { ...data, lang: messages.lang, t: messages.t, html: messages.html, strong, link };
  const body = await ejs.renderFile(`${VIEWS}${name}.ejs`, locals, { async: true, cache: true });
  return ejs.renderFile(`${VIEWS}layout.ejs`, { ...locals, body }, { async: true, cache: true });
}

/**
 * The error page, for oidc-provider's errors (its renderError hook: an unregistered redirect_uri
 * gets a page on the provider, never a redirect) and for Gatehouse's own routes alike. The
 * person reads the error's explanation in their language when it has one (explained()), a
 * server error as such, and otherwise the OAuth description as oidc-provider wrote it (English).
 */
export async function renderErrorPage(ctx: Context, out: { error: string; error_description?: string | undefined }, error?: unknown): Promise<void> {
  const messages = pageMessages(ctx, (ctx as { oidc?: { params?: { ui_locales?: unknown } } }).oidc?.params?.ui_locales);
  const explanation = explanationOf(error) ?? (out.error === 'server_error' ? 'error.serverError' : undefined);
  const byCode = explanation ? undefined : codeExplanation(out.error);
  const told = explanation ?? byCode;
  ctx.type = 'html';
  ctx.body = await renderPage('error', messages, {
    title: messages.t('error.title'),
    error: out.error,
    description: told ? messages.t(told) : out.error_description ?? '',
    // An error told in the person's words by its code keeps the protocol's own description
    // (oidc-provider's, in English) beside the code, for whoever helps them.
    detail: byCode ? out.error_description ?? '' : '',
  });
}
