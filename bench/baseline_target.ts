import { Provider, type ClientMetadata } from 'oidc-provider';
import type { Knex } from 'knex';
import { providerConfiguration } from '../src/provider/configuration.ts';
import { useHashedClientSecrets } from '../src/provider/client_secret.ts';
import type { SharedSetup } from './gatehouse_target.ts';
import { listen, type Target } from './listen.ts';

/**
 * The yardstick: Gatehouse's oidc-provider configuration (keys, features, TTLs, resource
 * indicators, hashed secret comparison) on oidc-provider's in-memory adapter, with the same
 * clients registered statically. No Gatehouse koa middleware: this is bare oidc-provider.
 */
export async function startBaselineTarget(shared: SharedSetup): Promise<Target> {
  const http = await listen();
  const { adapter: _gatehouseStorage, ...configuration } = providerConfiguration({
    issuer: http.url,
    // Only the adapter factory reads stores, and it is dropped: if that changes, this fails loudly.
    stores: { db: undefined as unknown as Knex },
    signingKeys: shared.signingKeys,
    cookieKeys: shared.cookieKeys,
    scopes: shared.scopes,
    // No one signs in during the benchmark.
    findAccount: async () => undefined,
  });
  const provider = new Provider(http.url, {
    ...configuration,
    clients: shared.storedClients.map((client) => ({ ...client }) as unknown as ClientMetadata),
  });
  useHashedClientSecrets(provider);
  http.serve(provider.callback());
  return { name: 'baseline', url: http.url, close: http.close };
}
