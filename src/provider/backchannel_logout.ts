import type { Client, Provider } from 'oidc-provider';
import type { Logger } from '../log.ts';

/**
 * oidc-provider's outbound requests without its SSRF guard, which refuses loopback and private
 * addresses. The only such requests here are back-channel logouts (no client has a jwks_uri or a
 * sector identifier), to URIs that only the operator registers, with the CLI; an institution's
 * applications often sit on a private network. oidc-provider still bounds each request to 2.5 s
 * and follows no redirect.
 */
export function operatorFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const { dispatcher: _ssrfGuard, ...options } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
  return fetch(input, options);
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
