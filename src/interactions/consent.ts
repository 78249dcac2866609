import type { Provider } from 'oidc-provider';
import type { InteractionDetails } from './interaction.ts';

/**
 * The scopes the consent page lists: everything this request would grant, in the order the
 * client asked, including scopes approved before (prompt=consent asks about the whole request).
 */
export async function scopesToApprove(provider: Provider, details: InteractionDetails): Promise<string[]> {
  const prompt = details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
  const granted = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  const grantable = new Set([
    ...(prompt.missingOIDCScope ?? []),
    ...Object.values(prompt.missingResourceScopes ?? {}).flat(),
    ...(granted?.getOIDCScope().split(' ') ?? []),
    ...Object.values(granted?.resources ?? {}).flatMap((scope) => String(scope).split(' ')),
  ]);
  return String(details.params.scope ?? '').split(' ').filter((scope) => grantable.has(scope));
}

/**
 * Records what the person approved as a Grant (kept in Postgres) and returns its id. The same
 * Grant is reused for this account and client, so consent given once is not asked again.
 */
export async function grantConsent(provider: Provider, details: InteractionDetails): Promise<string> {
  const { prompt, params, session, grantId } = details;
  const accountId = session?.accountId;
  if (!accountId) throw new Error('consent without a signed-in account');
  const grant = (grantId ? await provider.Grant.find(grantId) : undefined)
    ?? new provider.Grant({ accountId, clientId: String(params.client_id) });
  const missing = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}
