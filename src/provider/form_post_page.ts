import { createHash } from 'node:crypto';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import internals from 'oidc-provider/lib/helpers/weak_cache.js';
import { renderPage } from '../pages.ts';
import { pageMessages } from '../i18n/page_messages.ts';

/** Posts the form as the page loads; a person without script presses Continue. */
const SUBMIT = "document.addEventListener('DOMContentLoaded', function () { document.forms[0].submit(); });";
const SUBMIT_HASH = `'sha256-${createHash('sha256').update(SUBMIT).digest('base64')}'`;

/**
 * response_mode=form_post answers with a page of Gatehouse's, in the person's language with its
 * `lang` (axe: html-has-lang), as every other page: oidc-provider's own is English with no
 * language. registerResponseMode keeps a built-in mode, so the handler is replaced in
 * oidc-provider's registry (internal to oidc-provider 9; test/e2e/form_post_and_cors.test.ts
 * fails if an upgrade moves it). The page's one script is allowed by its hash in the CSP
 * (security_headers.ts), as oidc-provider's was.
 */
export function formPostInPersonsLanguage(provider: Provider): void {
  internals(provider).responseModes.set('form_post', async (ctx: KoaContextWithOIDC, action: string, inputs: Record<string, string>) => {
    if (![200, 400, 500].includes(ctx.status)) ctx.status = 'error' in inputs ? 400 : 200;
    const messages = pageMessages(ctx, ctx.oidc?.params?.ui_locales);
    ctx.set('Content-Security-Policy', `script-src ${SUBMIT_HASH}`);
    ctx.type = 'html';
    ctx.body = await renderPage('form_post', messages, { title: messages.t('formPost.title'), action, inputs: Object.entries(inputs), script: SUBMIT });
  });
}
