import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Redis, Result } from 'ioredis';
import { alreadyConsumed } from './errors.ts';
import type { ConsumedMarkers } from './consumed_markers.ts';

// KEYS[1] = artifact; ARGV[1] = now. 1: consumed by this call, 0: already consumed, -1: no such artifact.
const CONSUME_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1])`;

// KEYS[1] = the grant's index set; deletes every artifact it lists, then the set.
const REVOKE_SCRIPT = `
local members = redis.call('SMEMBERS', KEYS[1])
for i = 1, #members, 500 do
  redis.call('DEL', unpack(members, i, math.min(i + 499, #members)))
end
redis.call('DEL', KEYS[1])
return #members`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    gatehouseConsume(key: string, now: number): Result<number, Context>;
    gatehouseRevoke(grantKey: string): Result<number, Context>;
  }
}

export function defineAdapterScripts(redis: Redis): void {
  if (typeof redis.gatehouseConsume === 'function') return;
  redis.defineCommand('gatehouseConsume', { numberOfKeys: 1, lua: CONSUME_SCRIPT });
  redis.defineCommand('gatehouseRevoke', { numberOfKeys: 1, lua: REVOKE_SCRIPT });
}

export interface RedisAdapterOptions {
  /** Prefix of every key, so several deployments (or test runs) can share one Redis. */
  prefix: string;
  /** For consumable models: decides consumption durably in SQL as well. */
  markers?: ConsumedMarkers | undefined;
}

/**
 * Short-lived models in Redis: one hash per artifact (payload, consumed) that expires with it,
 * plus index keys for grantId, uid and userCode.
 */
export class RedisAdapter implements Adapter {
  readonly #redis: Redis;
  readonly #model: string;
  readonly #prefix: string;
  readonly #markers: ConsumedMarkers | undefined;

  constructor(redis: Redis, model: string, options: RedisAdapterOptions) {
    defineAdapterScripts(redis);
    this.#redis = redis;
    this.#model = model;
    this.#prefix = `${options.prefix}${model}:`;
    this.#markers = options.markers;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const key = this.#key(id);
    const multi = this.#redis.multi();
    // Only the payload field: saving an artifact again never clears its consumed mark.
    multi.hset(key, 'payload', JSON.stringify(payload));
    if (expiresIn) multi.expire(key, expiresIn);
    if (payload.grantId) {
      const grantKey = this.#indexKey('grant', payload.grantId);
      multi.sadd(grantKey, key);
      // The index lives as long as its longest-lived member.
      if (expiresIn) multi.expire(grantKey, expiresIn, 'NX').expire(grantKey, expiresIn, 'GT');
    }
    if (payload.uid) this.#setIndex(multi, 'uid', payload.uid, id, expiresIn);
    if (payload.userCode) this.#setIndex(multi, 'user_code', payload.userCode, id, expiresIn);
    await multi.exec().then(throwFirstError);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const fields = await this.#redis.hgetall(this.#key(id));
    if (!fields.payload) return undefined;
    const payload = JSON.parse(fields.payload) as AdapterPayload;
    const consumed = fields.consumed ? Number(fields.consumed) : await this.#markers?.consumedAt(this.#model, id);
    return consumed ? { ...payload, consumed } : payload;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const id = await this.#redis.get(this.#indexKey('uid', uid));
    return id ? this.find(id) : undefined;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const id = await this.#redis.get(this.#indexKey('user_code', userCode));
    return id ? this.find(id) : undefined;
  }

  async consume(id: string): Promise<void> {
    const key = this.#key(id);
    const now = Math.floor(Date.now() / 1000);
    if (this.#markers) {
      const ttl = await this.#redis.pttl(key);
      if (ttl === -2) throw alreadyConsumed(this.#model);
      const expiresAt = new Date(Date.now() + (ttl > 0 ? ttl : 24 * 3600 * 1000));
      if (!(await this.#markers.mark(this.#model, id, expiresAt))) throw alreadyConsumed(this.#model);
    }
    const result = await this.#redis.gatehouseConsume(key, now);
    if (result !== 1 && !this.#markers) throw alreadyConsumed(this.#model);
  }

  async destroy(id: string): Promise<void> {
    await this.#redis.del(this.#key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.#redis.gatehouseRevoke(this.#indexKey('grant', grantId));
  }

  #key(id: string): string {
    return `${this.#prefix}${id}`;
  }

  #indexKey(index: 'grant' | 'uid' | 'user_code', value: string): string {
    return `${this.#prefix}${index}:${value}`;
  }

  #setIndex(multi: ReturnType<Redis['multi']>, index: 'uid' | 'user_code', value: string, id: string, expiresIn?: number): void {
    const key = this.#indexKey(index, value);
    if (expiresIn) multi.set(key, id, 'EX', expiresIn);
    else multi.set(key, id);
  }
}

function throwFirstError(results: [Error | null, unknown][] | null): void {
  const failed = results?.find(([error]) => error);
  if (failed) throw failed[0];
}
