import type { Provider } from 'oidc-provider';
import type { ClientCache } from '../storage/client_changes.ts';

/**
 * Serves `Client.find` from the ClientCache. oidc-provider's own find reads the client's
 * metadata from the adapter and hashes it on every call, to notice a change; the change
 * notifications already say when a client changed, so the cache holds the Client itself (or
 * the answer that there is none) and the token and introspection endpoints skip both.
 */
export function cacheClientFind(provider: Provider, cache: ClientCache): void {
  const Client = provider.Client;
  const find = Client.find.bind(Client);
  const cached = cache.partition<Awaited<ReturnType<typeof find>>>();
  Client.find = (id: string) => (typeof id === 'string' && id.length ? cached(id, () => find(id)) : find(id));
}
