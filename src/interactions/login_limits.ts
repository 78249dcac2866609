import { createHash } from 'node:crypto';
import { RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Knex } from 'knex';
import type { Redis } from '../storage/redis.ts';
import { usernameKey } from '../identity/usernames.ts';
import { clientNetwork } from './client_network.ts';

/**
 * Failed sign-ins are limited without handing an attacker a switch that locks people out (OWASP's
 * authentication cheat sheet, Keycloak's growing waits). Each tier is a window of `duration`
 * seconds that allows `points` password checks that fail.
 *
 * Per account and address: a few guesses, then longer and longer waits (up to 5 minutes, then up
 * to an hour, then the rest of the day): 20 guesses a day from one address.
 */
const PER_ACCOUNT_AND_ADDRESS = [{ points: 5, duration: 5 * 60 }, { points: 10, duration: 60 * 60 }, { points: 20, duration: 24 * 60 * 60 }];
/** Per account from all addresses: reached only by guesses from many addresses at once. */
const PER_ACCOUNT = [{ points: 50, duration: 60 * 60 }, { points: 200, duration: 24 * 60 * 60 }];
/**
 * Per address over all accounts (password spraying). One account guessed from one address
 * fills at most 10 of it an hour, so a guesser behind a campus NAT cannot lock the others out.
 */
const PER_ADDRESS = [{ points: 100, duration: 15 * 60 }];
/**
 * An address an account signed in from is known for it this long: there, only that account's own
 * per-address limit applies, so a distributed attack or a sprayer behind the same NAT does not
 * lock its owner out.
 */
const KNOWN_FOR = 30 * 24 * 60 * 60;

export interface Attempt {
  /** Seconds to wait before trying again, or 0: the password may be checked. */
  retryAfter: number;
  /** The password was right: the attempt was no failure, and the address is now known for the account. */
  succeeded(): Promise<void>;
}

export interface LoginLimits {
  /**
   * Counts the attempt as a failure before the password is checked (atomically, in Redis or
   * SQL), so that parallel guesses can never check more passwords than the limits allow; a
   * right password takes the count back. A refused attempt counts nowhere.
   */
  reserve(username: string, ip: string): Promise<Attempt>;
}

interface Limit {
  limiter: RateLimiterAbstract;
  key: string;
}

export function createLoginLimits(stores: { db: Knex; redis?: Redis | undefined; prefix: string }): LoginLimits {
  const limiter = (name: string, limits: { points: number; duration: number }): RateLimiterAbstract => stores.redis
    ? new RateLimiterRedis({ storeClient: stores.redis, keyPrefix: `${stores.prefix}login-${name}`, ...limits })
    : new RateLimiterPostgres({ storeClient: stores.db, storeType: 'knex', tableName: 'rate_limits', tableCreated: true, keyPrefix: `login-${name}`, ...limits });
  const tiers = (name: string, limits: { points: number; duration: number }[]) => limits.map((limit, i) => limiter(`${name}-${i + 1}`, limit));
  const byPair = tiers('pair', PER_ACCOUNT_AND_ADDRESS);
  const byAccount = tiers('user', PER_ACCOUNT);
  const byAddress = tiers('ip', PER_ADDRESS);
  const known = limiter('known', { points: 1, duration: KNOWN_FOR });

  return {
    async reserve(username, ip) {
      const account = digest(usernameKey(username));
      const network = clientNetwork(ip);
      const pair = digest(account, network);
      const address = digest(network);
      const pairLimits = byPair.map((l) => ({ limiter: l, key: pair }));
      const isKnown = ((await known.get(pair))?.consumedPoints ?? 0) > 0;
      // One stage after the other, so that guesses refused for one account never fill the address's count.
      const stages = isKnown ? [pairLimits] : [pairLimits, byAccount.map((l) => ({ limiter: l, key: account })), byAddress.map((l) => ({ limiter: l, key: address }))];
      const taken: Limit[] = [];
      for (const stage of stages) {
        const refused = await take(stage, taken);
        if (refused > 0) {
          await giveBack(taken);
          return { retryAfter: refused, succeeded: async () => {} };
        }
      }
      return {
        retryAfter: 0,
        async succeeded() {
          const others = taken.filter((limit) => !pairLimits.some((p) => p.limiter === limit.limiter));
          await Promise.all([...byPair.map((l) => l.delete(pair)), giveBack(others), known.set(pair, 1, KNOWN_FOR)]);
        },
      };
    },
  };
}

/**
 * Takes one point from each limit of a stage in turn, shortest window first (recorded in
 * `taken`), and stops at the first one used up: answers its wait, or 0. In turn, not at once:
 * an attempt the 5-minute limit refuses must not count, even for a moment, against the hour's,
 * or parallel guesses would push a permitted attempt over a longer limit.
 */
async function take(stage: Limit[], taken: Limit[]): Promise<number> {
  for (const [i, limit] of stage.entries()) {
    try {
      await limit.limiter.consume(limit.key);
      taken.push(limit);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) {
        await giveBack(taken).catch(() => {});
        throw error;
      }
      // A refusal took its point too (it is counted past the limit), so it is given back with the rest.
      taken.push(limit);
      // The wait is the longest of this limit and the longer ones already used up, which are read, not counted.
      const longer = await Promise.all(stage.slice(i + 1).map(async (next) => {
        const state = await next.limiter.get(next.key);
        return state && state.consumedPoints >= next.limiter.points ? state.msBeforeNext : 0;
      }));
      return Math.max(Math.ceil(Math.max(error.msBeforeNext, ...longer) / 1000), 1);
    }
  }
  return 0;
}

async function giveBack(limits: Limit[]): Promise<void> {
  await Promise.all(limits.map((limit) => limit.limiter.reward(limit.key)));
}

/** Store keys: fixed length whatever a username or a forwarded address holds, and no username in the store. */
function digest(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('base64url');
}
