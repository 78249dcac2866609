import type { Adapter, AdapterPayload } from 'oidc-provider';

/**
 * Keeps a model's records a while after they expire. oidc-provider checks `exp` itself on every
 * find, so an expired record is never honoured; kept, it lets the token endpoint tell a late
 * client that its code expired rather than that it never existed.
 */
export function keptAfterExpiry(adapter: Adapter, seconds: number): Adapter {
  const upsert = (id: string, payload: AdapterPayload, expiresIn?: number) => adapter.upsert(id, payload, expiresIn ? expiresIn + seconds : expiresIn);
  return new Proxy(adapter, {
    get: (target, name) => (name === 'upsert' ? upsert : (Reflect.get(target, name) as (...args: unknown[]) => unknown).bind(target)),
  });
}
