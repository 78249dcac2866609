import { RateLimiterPostgres, RateLimiterRedis, type RateLimiterAbstract, type RateLimiterRes } from 'rate-limiter-flexible';
import type { Knex } from 'knex';
import type { Redis } from 'ioredis';

/**
 * Failed sign-ins are limited per username (guessing one person's password) and per client IP
 * (trying many people). Only failures count, so a person who types correctly is never slowed.
 */
const PER_USERNAME = { points: 5, duration: 15 * 60 };
const PER_IP = { points: 30, duration: 15 * 60 };

export interface LoginLimits {
  /** Seconds until another attempt is allowed, or 0 when one is allowed now. */
  retryAfter(username: string, ip: string): Promise<number>;
  recordFailure(username: string, ip: string): Promise<void>;
  recordSuccess(username: string): Promise<void>;
}

export function createLoginLimits(stores: { db: Knex; redis?: Redis | undefined; prefix: string }): LoginLimits {
  const limiter = (name: string, limits: { points: number; duration: number }): RateLimiterAbstract => stores.redis
    ? new RateLimiterRedis({ storeClient: stores.redis, keyPrefix: `${stores.prefix}login-${name}`, ...limits })
    : new RateLimiterPostgres({ storeClient: stores.db, storeType: 'knex', tableName: 'rate_limits', tableCreated: true, keyPrefix: `login-${name}`, ...limits });
  const byUsername = limiter('user', PER_USERNAME);
  const byIp = limiter('ip', PER_IP);
  const userKey = (username: string) => username.trim().toLowerCase();

  return {
    async retryAfter(username, ip) {
      const [user, address] = await Promise.all([byUsername.get(userKey(username)), byIp.get(ip)]);
      return Math.max(wait(user, PER_USERNAME.points), wait(address, PER_IP.points));
    },
    async recordFailure(username, ip) {
      // Consuming past the limit rejects; the state is what matters, so rejections are expected here.
      await Promise.allSettled([byUsername.consume(userKey(username)), byIp.consume(ip)]);
    },
    async recordSuccess(username) {
      await byUsername.delete(userKey(username));
    },
  };
}

function wait(state: RateLimiterRes | null, points: number): number {
  return state && state.consumedPoints >= points ? Math.ceil(state.msBeforeNext / 1000) : 0;
}
