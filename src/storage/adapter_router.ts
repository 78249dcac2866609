import type { Adapter, AdapterFactory } from 'oidc-provider';
import type { Knex } from 'knex';
import type { Redis } from './redis.ts';
import { SqlAdapter } from './sql_adapter.ts';
import { RedisAdapter } from './redis_adapter.ts';
import { ConsumedMarkers } from './consumed_markers.ts';
import { GuardedAdapter } from './guarded_adapter.ts';
import { keptAfterExpiry } from './kept_after_expiry.ts';
import { digestedIds, sessionCookieDigested } from './digested_ids.ts';

/**
 * Models that live minutes, not days: kept in Redis (with TTLs) when Redis is configured.
 * CasSession (Gatehouse's, src/storage/cas_sessions.ts) lives and goes with a Session.
 */
const SHORT_LIVED_MODELS: ReadonlySet<string> = new Set([
  'Session', 'CasSession', 'Interaction', 'AuthorizationCode', 'AccessToken', 'ClientCredentials', 'ReplayDetection',
  'PushedAuthorizationRequest', 'DeviceCode', 'BackchannelAuthenticationRequest',
]);

/** Both kinds of access token live in one key space: introspection then reads Redis once (ids are random). */
const KEY_SPACE: Readonly<Record<string, string>> = { AccessToken: 'AccessToken', ClientCredentials: 'AccessToken' };

/** Short-lived models whose single use must survive a Redis failover (see ConsumedMarkers). */
const CONSUMABLE_MODELS: ReadonlySet<string> = new Set(['AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/**
 * Models whose id is a bearer secret (presenting it is using it): stored under its digest. Not
 * here: Grant, Client and ReplayDetection ids open nothing; CasSession is keyed by its ticket's
 * digest already; an Interaction's id is in its own payload (returnTo) and in the page's URL, and
 * using it takes the interaction cookie signed with the cookie keys; a PushedAuthorizationRequest
 * only replays a client's request parameters (and the Interaction keeps its id, parJti).
 * DeviceCode, BackchannelAuthenticationRequest and the registration tokens are for features
 * turned off today, listed so that turning one on cannot store its secrets in clear.
 */
const DIGESTED_MODELS: ReadonlySet<string> = new Set([
  'Session', 'AuthorizationCode', 'AccessToken', 'ClientCredentials', 'RefreshToken',
  'DeviceCode', 'BackchannelAuthenticationRequest', 'RegistrationAccessToken', 'InitialAccessToken',
]);

/** How long an expired record is kept (seconds): a code copied by hand is often redeemed late. */
const KEPT_AFTER_EXPIRY: Readonly<Record<string, number>> = { AuthorizationCode: 10 * 60 };

export interface Stores {
  db: Knex;
  redis?: Redis | undefined;
  /** Redis key prefix. */
  redisPrefix?: string | undefined;
}

/** Chooses each model's backend: durable models in SQL, short-lived ones in Redis if present. */
export function adapterFor(stores: Stores, model: string): Adapter {
  const { db, redis, redisPrefix = 'gatehouse:' } = stores;
  const inner = redis && SHORT_LIVED_MODELS.has(model)
    ? new RedisAdapter(redis, model, {
      prefix: redisPrefix,
      namespace: KEY_SPACE[model],
      markers: CONSUMABLE_MODELS.has(model) ? new ConsumedMarkers(db) : undefined,
    })
    : new SqlAdapter(db, model);
  const kept = KEPT_AFTER_EXPIRY[model];
  const stored = kept ? keptAfterExpiry(inner, kept) : inner;
  if (DIGESTED_MODELS.has(model)) return new GuardedAdapter(digestedIds(stored));
  return new GuardedAdapter(model === 'Interaction' ? sessionCookieDigested(stored) : stored);
}

/** The `adapter` option of oidc-provider. */
export function adapterFactory(stores: Stores): AdapterFactory {
  return (model) => adapterFor(stores, model);
}
