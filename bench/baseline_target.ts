import type { ClientMetadata } from 'oidc-provider';
import { configureProvider } from '../src/app.ts';
import type { SharedSetup, Target } from './gatehouse_target.ts';
import { listen } from '../test/support/listen.ts';

/**
 * The yardstick: Gatehouse's oidc-provider, configured by the same call as in createApp
 * (configureProvider: keys, features, TTLs, the scope policy behind resource indicators, hashed
 * secret comparison), on oidc-provider's in-memory adapter with the same clients registered
 * statically, and without Gatehouse's koa middleware: bare oidc-provider.
 */
export async function startBaselineTarget({ config, db, storedClients }: SharedSetup): Promise<Target> {
  const http = await listen();
  const clients = storedClients.map((client) => ({ ...client }) as unknown as ClientMetadata);
  const { provider } = await configureProvider(config, db, { clients }, http.url);
  http.serve(provider.callback());
  return { name: 'baseline', url: http.url, close: http.close };
}
