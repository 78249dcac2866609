import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { isUnavailable, StorageUnavailable } from './errors.ts';

/**
 * Postgres stores no NUL character in text, and a lookup of a value holding one fails there.
 * No stored id holds one, so such a lookup finds nothing, as it would for any other unknown
 * id: the client gets its RFC error (invalid_client, invalid_grant, ...) rather than a 500.
 */
const cannotBeStored = (value: string): boolean => value.includes('\u0000');

/** Whether any string in a payload (the request's state, nonce, login_hint ...) holds a NUL. */
function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return cannotBeStored(value);
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(([key, inner]) => cannotBeStored(key) || holdsNul(inner));
}

/**
 * Turns a backend outage inside any adapter call into StorageUnavailable (503), answers a
 * lookup of an id no store can hold (see cannotBeStored) as not found, and refuses to save a
 * payload holding a NUL with invalid_request: the value came from the request, and Postgres
 * would refuse it with a 500 (Redis takes it, and the 500 comes later, at the next SQL save).
 */
export class GuardedAdapter implements Adapter {
  readonly #inner: Adapter;

  constructor(inner: Adapter) {
    this.#inner = inner;
  }

  upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    if (holdsNul(payload)) return Promise.reject(new errors.InvalidRequest('a parameter holds a NUL character'));
    return guard(() => this.#inner.upsert(id, payload, expiresIn));
  }

  find(id: string): Promise<AdapterPayload | undefined | void> {
    return cannotBeStored(id) ? Promise.resolve(undefined) : guard(() => this.#inner.find(id));
  }

  findByUid(uid: string): Promise<AdapterPayload | undefined | void> {
    return cannotBeStored(uid) ? Promise.resolve(undefined) : guard(() => this.#inner.findByUid(uid));
  }

  findByUserCode(userCode: string): Promise<AdapterPayload | undefined | void> {
    return cannotBeStored(userCode) ? Promise.resolve(undefined) : guard(() => this.#inner.findByUserCode(userCode));
  }

  consume(id: string): Promise<void> {
    return cannotBeStored(id) ? Promise.resolve() : guard(() => this.#inner.consume(id));
  }

  destroy(id: string): Promise<void> {
    return cannotBeStored(id) ? Promise.resolve() : guard(() => this.#inner.destroy(id));
  }

  revokeByGrantId(grantId: string): Promise<void> {
    return cannotBeStored(grantId) ? Promise.resolve() : guard(() => this.#inner.revokeByGrantId(grantId));
  }
}

export function guard<T>(call: () => Promise<T>): Promise<T> {
  return call().catch((error: unknown) => {
    throw isUnavailable(error) ? new StorageUnavailable(error) : error;
  });
}
