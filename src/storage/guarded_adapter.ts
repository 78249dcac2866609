import type { Adapter, AdapterPayload } from 'oidc-provider';
import { isUnavailable, StorageUnavailable } from './errors.ts';

/** Turns a backend outage inside any adapter call into StorageUnavailable (503). */
export class GuardedAdapter implements Adapter {
  readonly #inner: Adapter;

  constructor(inner: Adapter) {
    this.#inner = inner;
  }

  upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    return guard(() => this.#inner.upsert(id, payload, expiresIn));
  }

  find(id: string): Promise<AdapterPayload | undefined | void> {
    return guard(() => this.#inner.find(id));
  }

  findByUid(uid: string): Promise<AdapterPayload | undefined | void> {
    return guard(() => this.#inner.findByUid(uid));
  }

  findByUserCode(userCode: string): Promise<AdapterPayload | undefined | void> {
    return guard(() => this.#inner.findByUserCode(userCode));
  }

  consume(id: string): Promise<void> {
    return guard(() => this.#inner.consume(id));
  }

  destroy(id: string): Promise<void> {
    return guard(() => this.#inner.destroy(id));
  }

  revokeByGrantId(grantId: string): Promise<void> {
    return guard(() => this.#inner.revokeByGrantId(grantId));
  }
}

export function guard<T>(call: () => Promise<T>): Promise<T> {
  return call().catch((error: unknown) => {
    throw isUnavailable(error) ? new StorageUnavailable(error) : error;
  });
}
