import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Redis, Result } from 'ioredis';
import { alreadyConsumed } from './errors.ts';
import type { ConsumedMarkers } from './consumed_markers.ts';

// One round trip and one command per save, whatever the indexes: the token endpoint's hot path.
// KEYS: artifact, grant index, uid index, user code index ('' when absent); ARGV: payload, ttl (0: none), id.
const UPSERT_SCRIPT = `
local ttl = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'payload', ARGV[1])
if ttl > 0 then redis.call('EXPIRE', KEYS[1], ttl) end
if KEYS[2] ~= '' then
  redis.call('SADD', KEYS[2], KEYS[1])
  if ttl > 0 and redis.call('TTL', KEYS[2]) < ttl then redis.call('EXPIRE', KEYS[2], ttl) end
end
for i = 3, 4 do
  if KEYS[i] ~= '' then
    if ttl > 0 then redis.call('SET', KEYS[i], ARGV[3], 'EX', ttl) else redis.call('SET', KEYS[i], ARGV[3]) end
  end
end
return 1`;

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
    gatehouseUpsert(key: string, grantKey: string, uidKey: string, userCodeKey: string, payload: string, ttl: number, id: string): Result<number, Context>;
    gatehouseConsume(key: string, now: number): Result<number, Context>;
    gatehouseRevoke(grantKey: string): Result<number, Context>;
  }
}

export function defineAdapterScripts(redis: Redis): void {
  if (typeof redis.gatehouseConsume === 'function') return;
  redis.defineCommand('gatehouseUpsert', { numberOfKeys: 4, lua: UPSERT_SCRIPT });
  redis.defineCommand('gatehouseConsume', { numberOfKeys: 1, lua: CONSUME_SCRIPT });
  redis.defineCommand('gatehouseRevoke', { numberOfKeys: 1, lua: REVOKE_SCRIPT });
}

export interface RedisAdapterOptions {
  /** Prefix of every key, so several deployments (or test runs) can share one Redis. */
  prefix: string;
  /**
   * Key space shared with other models (default: the model's own). Models whose ids never
   * collide may share one, and their concurrent finds of one id then cost one Redis command.
   */
  namespace?: string | undefined;
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
    this.#prefix = `${options.prefix}${options.namespace ?? model}:`;
    this.#markers = options.markers;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    // Only the payload field: saving an artifact again never clears its consumed mark.
    await this.#redis.gatehouseUpsert(
      this.#key(id),
      payload.grantId ? this.#indexKey('grant', payload.grantId) : '',
      payload.uid ? this.#indexKey('uid', payload.uid) : '',
      payload.userCode ? this.#indexKey('user_code', payload.userCode) : '',
      JSON.stringify(payload),
      expiresIn ?? 0,
      id,
    );
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const fields = await readShared(this.#redis, this.#key(id));
    if (!fields.payload) return undefined;
    const payload = JSON.parse(fields.payload) as AdapterPayload;
    // In a shared key space the artifact may be another model's: not found, for this one.
    if (payload.kind !== undefined && payload.kind !== this.#model) return undefined;
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
}

const inFlight = new WeakMap<Redis, Map<string, Promise<Record<string, string>>>>();

/**
 * HGETALL, with concurrent reads of one key sharing one command: oidc-provider looks an access
 * token up as AccessToken and as ClientCredentials at once, at every introspection.
 */
function readShared(redis: Redis, key: string): Promise<Record<string, string>> {
  let reads = inFlight.get(redis);
  if (!reads) inFlight.set(redis, (reads = new Map()));
  const pending = reads.get(key);
  if (pending) return pending;
  const read = redis.hgetall(key).finally(() => reads.delete(key));
  reads.set(key, read);
  return read;
}
