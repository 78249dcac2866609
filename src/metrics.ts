import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import { isUnavailable } from './storage/errors.ts';
import type { Knex } from './storage/database.ts';
import type { Redis } from './storage/redis.ts';
import { cacheStats } from './ttl_cache.ts';
import type { AuditWriter } from './storage/audit_log.ts';

export type SignInMethod = 'password' | 'cas';
/** wrong_password covers an unknown username too; refused is a disabled account or a failed CAS ticket. */
export type SignInOutcome = 'success' | 'wrong_password' | 'locked' | 'refused';

export interface Metrics {
  registry: Registry;
  requestDuration: Histogram<'route' | 'method' | 'status'>;
  oauthErrors: Counter<'route' | 'error'>;
  signIn(method: SignInMethod, outcome: SignInOutcome): void;
}

/** What the health gauges read at scrape time. */
export interface MetricsSources {
  knex: Knex;
  redis: Redis | undefined;
  audit: Pick<AuditWriter, 'dropped'>;
}

/** The request state flag set when an error was counted from its event, so the response is not counted again. */
export const ERROR_COUNTED = Symbol('gatehouse.errorCounted');

/**
 * Prometheus metrics: process defaults, HTTP by route, the provider's token and error events,
 * sign-ins, cache hits, and the pool and Redis as seen at scrape time (collect callbacks: no
 * cost on the request path).
 */
export function createMetrics(provider: Provider, sources: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requestDuration = new Histogram({
    name: 'gatehouse_http_request_duration_seconds',
    help: 'HTTP requests by route (oidc-provider route name or our own), method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const grants = new Counter({
    name: 'gatehouse_grants_total',
    help: 'Token endpoint outcomes by grant type.',
    labelNames: ['grant_type', 'outcome'] as const,
    registers: [registry],
  });
  const tokens = new Counter({
    name: 'gatehouse_tokens_issued_total',
    help: 'Access and refresh tokens issued, by the grant type that issued them.',
    labelNames: ['type', 'grant_type'] as const,
    registers: [registry],
  });
  const oauthErrors = new Counter({
    name: 'gatehouse_oauth_errors_total',
    help: 'Error answers by route and OAuth error code, as the client received them.',
    labelNames: ['route', 'error'] as const,
    registers: [registry],
  });
  const signIns = new Counter({
    name: 'gatehouse_sign_ins_total',
    help: 'Sign-in attempts by method and outcome (success, wrong_password, locked, refused).',
    labelNames: ['method', 'outcome'] as const,
    registers: [registry],
  });
  const serverErrors = new Counter({ name: 'gatehouse_server_errors_total', help: 'Requests that failed inside Gatehouse.', registers: [registry] });
  provider.on('grant.success', (ctx) => grants.inc({ grant_type: grantTypeLabel(ctx.oidc.params?.grant_type), outcome: 'success' }));
  provider.on('grant.error', (ctx) => grants.inc({ grant_type: grantTypeLabel(ctx.oidc.params?.grant_type), outcome: 'error' }));
  // A token is "saved" when stored and "issued" when self-contained (a JWT): either way it left.
  // gty is the grant that issued the token ("authorization_code refresh_token" once refreshed);
  // client credentials tokens are their own model, without one.
  const issued = (type: string) => (token: { gty?: string }) => tokens.inc({ type, grant_type: token.gty ?? 'unknown' });
  const clientCredentials = () => tokens.inc({ type: 'access_token', grant_type: 'client_credentials' });
  provider.on('access_token.saved', issued('access_token'));
  provider.on('access_token.issued', issued('access_token'));
  provider.on('client_credentials.saved', clientCredentials);
  provider.on('client_credentials.issued', clientCredentials);
  provider.on('refresh_token.saved', issued('refresh_token'));
  // Authorization errors mostly leave as a redirect to the client, with no error body for the
  // response to be counted by (src/observe.ts), so they are counted here.
  provider.on('authorization.error', (ctx: KoaContextWithOIDC, error: { error?: string }) => {
    oauthErrors.inc({ route: String(ctx.oidc?.route ?? 'authorization'), error: String(error.error ?? 'unknown') });
    (ctx.state as Record<symbol, boolean>)[ERROR_COUNTED] = true;
  });
  // An outage is answered 503 (src/error_pages.ts) and shows in /readyz, not here.
  provider.on('server_error', (_ctx, error: unknown) => {
    if (!isUnavailable(error)) serverErrors.inc();
  });
  healthGauges(registry, sources);
  return { registry, requestDuration, oauthErrors, signIn: (method, outcome) => signIns.inc({ method, outcome }) };
}

// The grant types Gatehouse serves (src/policy/client_kinds.ts). Any other value a client sends
// is one label, "other": a label per value sent would let anyone grow the registry without bound.
const GRANT_TYPES: ReadonlySet<unknown> = new Set(['authorization_code', 'refresh_token', 'client_credentials']);

function grantTypeLabel(grantType: unknown): string {
  if (grantType === undefined) return 'none';
  return GRANT_TYPES.has(grantType) ? String(grantType) : 'other';
}

function healthGauges(registry: Registry, { knex, redis, audit }: MetricsSources): void {
  // tarn's pool, which knex keeps on its client.
  const pool = (knex.client as { pool?: { numUsed(): number; numFree(): number; numPendingAcquires(): number } }).pool;
  new Gauge({
    name: 'gatehouse_db_pool_connections',
    help: 'Database pool connections: used, free, and requests waiting for one (pending).',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.set({ state: 'used' }, pool?.numUsed() ?? 0);
      this.set({ state: 'free' }, pool?.numFree() ?? 0);
      this.set({ state: 'pending' }, pool?.numPendingAcquires() ?? 0);
    },
  });
  if (redis) {
    new Gauge({
      name: 'gatehouse_redis_up',
      help: '1 while the Redis connection is ready, 0 while it is down or reconnecting.',
      registers: [registry],
      collect() {
        this.set(redis.status === 'ready' ? 1 : 0);
      },
    });
  }
  new Counter({
    name: 'gatehouse_audit_events_dropped_total',
    help: 'Audit events lost because the database stayed unreachable while the buffer filled.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(audit.dropped);
    },
  });
  new Counter({
    name: 'gatehouse_cache_requests_total',
    help: 'Lookups in the in-process caches (clients, groups, enterprise scopes, usernames) by cache and result (hit or miss).',
    labelNames: ['cache', 'result'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [cache, counts] of cacheStats()) {
        this.inc({ cache, result: 'hit' }, counts.hits);
        this.inc({ cache, result: 'miss' }, counts.misses);
      }
    },
  });
}
