import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Result } from 'ioredis';
import { replicated, type Redis } from './redis.ts';
import { alreadyConsumed } from './errors.ts';
import type { ConsumedMarkers } from './consumed_markers.ts';

// Every script touches one key: on a Redis Cluster an artifact and its indexes live in different
// hash slots (an index is found by grant, uid or user code, the artifact by its own id), and a
// script's keys must share one. A save's commands leave in one write all the same (auto-pipelining).

// KEYS[1] = artifact; ARGV: payload, ttl (0: none).
const SAVE_SCRIPT = `
redis.call('HSET', KEYS[1], 'payload', ARGV[1])
if tonumber(ARGV[2]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1`;

// KEYS[1] = a grant's index: artifact keys scored by when they expire (inf: never); ARGV: artifact
// key, ttl (0: none). Expired members go at each save: a grant refreshed every few minutes for a
// month would otherwise list every token it ever had. Times are the Redis server's, not each
// instance's (one whose clock ran ahead would drop others' live tokens). The index lives as long
// as its longest-lived member.
const INDEX_SCRIPT = `
local ttl = tonumber(ARGV[2])
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)
redis.call('ZADD', KEYS[1], ttl > 0 and now + ttl or '+inf', ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2]
if last == 'inf' then redis.call('PERSIST', KEYS[1]) else redis.call('EXPIRE', KEYS[1], tonumber(last) - now) end
return 1`;

// KEYS[1] = artifact; ARGV[1] = now. 1: consumed by this call, 0: already consumed, -1: no such artifact.
const CONSUME_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1])`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    gatehouseSave(key: string, payload: string, ttl: number): Result<number, Context>;
    gatehouseIndex(indexKey: string, key: string, ttl: number): Result<number, Context>;
    gatehouseConsume(key: string, now: number): Result<number, Context>;
  }
}

export function defineAdapterScripts(redis: Redis): void {
  if (typeof redis.gatehouseConsume === 'function') return;
  redis.defineCommand('gatehouseSave', { numberOfKeys: 1, lua: SAVE_SCRIPT });
  redis.defineCommand('gatehouseIndex', { numberOfKeys: 1, lua: INDEX_SCRIPT });
  redis.defineCommand('gatehouseConsume', { numberOfKeys: 1, lua: CONSUME_SCRIPT });
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
    const key = this.#key(id);
    const ttl = expiresIn ?? 0;
    // Sent together, indexes first: a save cut short leaves at most an index naming nothing, and
    // an artifact is handed out only once every command succeeded (oidc-provider awaits this).
    const indexed: Promise<unknown>[] = [];
    if (payload.grantId) indexed.push(this.#redis.gatehouseIndex(this.#indexKey('grant', payload.grantId), key, ttl));
    if (payload.uid) indexed.push(this.#lookup('uid', payload.uid, id, ttl));
    if (payload.userCode) indexed.push(this.#lookup('user_code', payload.userCode, id, ttl));
    // Only the payload field: saving an artifact again never clears its consumed mark.
    const saved = this.#redis.gatehouseSave(key, JSON.stringify(payload), ttl);
    // Most saves (client credentials, an access token) have no index: one command, one await.
    await (indexed.length ? Promise.all([...indexed, saved]) : saved);
    const acked = replicated(this.#redis);
    if (acked) await acked;
  }

  #lookup(index: 'uid' | 'user_code', value: string, id: string, ttl: number): Promise<unknown> {
    const key = this.#indexKey(index, value);
    return ttl > 0 ? this.#redis.set(key, id, 'EX', ttl) : this.#redis.set(key, id);
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
    await replicated(this.#redis);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const index = this.#indexKey('grant', grantId);
    const members = await this.#redis.zrange(index, '0', '-1');
    if (members.length === 0) return;
    // One DEL per artifact (they may live on different Cluster nodes), then only the members read:
    // an artifact the grant gained meanwhile stays listed for the next revocation.
    await Promise.all(members.map((member) => this.#redis.del(member)));
    await this.#redis.zrem(index, ...members);
    await replicated(this.#redis);
  }

  #key(id: string): string {
    return `${this.#prefix}${id}`;
  }

  #indexKey(index: 'grant' | 'uid' | 'user_code', value: string): string {
    // A grant's index was a set before it was sorted by expiry: a new name, so that an index
    // written by the earlier version (gone within a token's lifetime) is never read as the other type.
    return `${this.#prefix}${index === 'grant' ? 'grant_expiry' : index}:${value}`;
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
