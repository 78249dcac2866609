import { types } from 'node:util';
import { errors } from 'oidc-provider';

/**
 * A backend (Postgres or Redis) cannot be reached. oidc-provider renders exposed errors as
 * RFC JSON with their status, so the client sees 503 temporarily_unavailable and no details.
 */
export class StorageUnavailable extends errors.OIDCProviderError {
  constructor(cause: unknown) {
    super(503, 'temporarily_unavailable', { cause });
    this.expose = true;
    Object.assign(this, { error_description: 'the authorization server is temporarily unavailable, retry later' });
  }
}

const CONCURRENT_REUSE = Symbol('gatehouse.concurrentReuse');

/** The consume that lost: the artifact was already used, which the grant treats as reuse. */
export function alreadyConsumed(model: string): Error {
  return Object.assign(new errors.InvalidGrant(`${model} already consumed`), { [CONCURRENT_REUSE]: true });
}

export function isConcurrentReuse(error: unknown): boolean {
  return typeof error === 'object' && error !== null && CONCURRENT_REUSE in error;
}

// Network-level failures of pg, knex's pool and ioredis: the backend is down, not the query wrong.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENOENT']);
const UNAVAILABLE_MESSAGES = [
  /Timeout acquiring a connection/i,
  /Connection terminated/i,
  /Connection is closed/i,
  /enableOfflineQueue/i,
  /Reached the max retries per request/i,
  // The bounds of src/storage/database.ts and redis.ts: a backend that does not answer.
  /Query read timeout/i,
  /^timeout expired$/i,
  /Command timed out/i,
  /the database system is (starting up|shutting down)/i,
  /terminating connection/i,
  // A Redis Cluster missing a master, or moving slots; a Sentinel setup between master and replica.
  /^CLUSTERDOWN /,
  /^TRYAGAIN /,
  /Too many Cluster redirections/i,
  /Failed to refresh slots cache/i,
  /^READONLY /,
  /^MASTERDOWN /,
  /^LOADING /,
  /All sentinels are unreachable/i,
  // A WAIT for a replica cut short: the master it waited on became a replica (a failover).
  /^UNBLOCKED /,
  // A Redis that refuses writes until an operator acts: full (maxmemory, noeviction), or short
  // of the replicas its min-replicas-to-write asks for (a Sentinel setup with its replica down).
  /^OOM /,
  /^NOREPLICAS /,
];

export function isUnavailable(error: unknown): boolean {
  // Not only `instanceof Error`: Node's own errors (a refused connect) come from another realm
  // when the code runs in a VM context, as under jest, and would pass through as a 500.
  if (!(error instanceof Error || types.isNativeError(error))) return false;
  const { code } = error as { code?: string };
  // SQLSTATE class 08 is "connection exception"; 57P0x is an operator shutdown; 53300 too many connections.
  if (code && (NETWORK_CODES.has(code) || code.startsWith('08') || code.startsWith('57P0') || code === '53300')) return true;
  if (error.name === 'KnexTimeoutError' || error.name === 'MaxRetriesPerRequestError') return true;
  if (error.name === 'AggregateError') return (error as AggregateError).errors.some(isUnavailable);
  return UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(error.message));
}
