import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { errors } from 'oidc-provider';
import { explained, type ExplanationKey } from '../i18n/explained_error.ts';
import { readForm } from './form.ts';

/**
 * What a form's token is bound to: the interaction of a sign-in or consent page (bound to the
 * browser by its cookie, checked against the URL's uid), or the session of the account page.
 * Only a page rendered for it carries the token, so a cross-site form cannot supply it.
 */
export type CsrfBinding = { interaction: string } | { session: string };

/**
 * The token: an HMAC of the binding under a server key. Interaction uids never start with
 * `account:`, so a session's token is never an interaction's (these strings are the ones
 * earlier versions signed: a form open during an upgrade still posts).
 */
export function csrfToken(key: string, binding: CsrfBinding): string {
  const subject = 'interaction' in binding ? binding.interaction : `account:${binding.session}`;
  return createHmac('sha256', key).update(`gatehouse-csrf:${subject}`).digest('base64url');
}

/** Refuses a missing or wrong token with 400 invalid_request, the person told why in their words. */
export function checkCsrf(key: string, binding: CsrfBinding, presented: unknown, explanation: ExplanationKey): void {
  const expected = Buffer.from(csrfToken(key, binding));
  const actual = Buffer.from(typeof presented === 'string' ? presented : '');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw explained(new errors.InvalidRequest('the form expired or did not come from this site'), explanation);
  }
}

/** A page's form POST (src/interactions/form.ts), refused unless it carries the binding's token. */
export async function checkedForm(ctx: Context, key: string, binding: CsrfBinding, explanation: ExplanationKey): Promise<URLSearchParams> {
  const form = await readForm(ctx);
  checkCsrf(key, binding, form.get('csrf'), explanation);
  return form;
}
