import type { Client, Provider } from 'oidc-provider';
import type { Logger } from '../log.ts';

/**
 * oidc-provider's outbound requests, where a back-channel logout goes without its SSRF guard,
 * which refuses loopback and private addresses: an institution's applications often sit on a
 * private network, and only the operator registers these URIs, with the CLI (/reg refuses them:
 * src/policy/registration_metadata.ts). Every other request (a client's jwks_uri, sector
 * identifier or metadata document) keeps the guard, since such URIs may one day come from
 * dynamic registration. oidc-provider still bounds each request to 2.5 s and follows no redirect.
 */
export function operatorFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  if (!isLogoutDelivery(init)) return fetch(input, init);
  const { dispatcher: _ssrfGuard, ...options } = init as RequestInit & { dispatcher?: unknown };
  return fetch(input, options);
}

/** A back-channel logout: oidc-provider's one POST of a logout_token (Client#backchannelLogout). */
function isLogoutDelivery(init: RequestInit): boolean {
  return init.method === 'POST' && init.body instanceof URLSearchParams && init.body.has('logout_token');
}

/**
 * A logout token an application did not take is logged, never shown: the person's sign-out has
 * happened at Gatehouse either way. The token itself is not logged.
 */
export function logBackchannelLogout(provider: Provider, logger: Logger): void {
  provider.on('backchannel.success', (_ctx: unknown, client: Client) => {
    logger.info({ event: 'backchannel.sent', client: client.clientId }, 'back-channel logout delivered');
  });
  provider.on('backchannel.error', (_ctx: unknown, error: Error, client: Client) => {
    const cause = (error.cause as { code?: string } | undefined)?.code;
    logger.warn({ event: 'backchannel.failed', client: client.clientId, error: error.message, ...(cause ? { cause } : {}) }, 'back-channel logout not delivered');
  });
}
