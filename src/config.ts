import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * The one place that reads the environment. Every variable is optional: the defaults give
 * the embedded setup (PGlite under ./data, short-lived models in SQL, local accounts).
 */
const commaList = z
  .string()
  .transform((value) => value.split(',').map((part) => part.trim()).filter(Boolean));

/** host:port, comma-separated: where to find a Redis Cluster's nodes or the Sentinels. */
const hostPortList = commaList
  .refine((parts) => parts.length > 0 && parts.every((part) => hostPort(part) !== undefined))
  .transform((parts) => parts.map((part) => hostPort(part)!));

const schema = z.object({
  /** Issuer identifier: the public https URL of this provider, without a trailing slash. Default http://localhost:PORT. */
  ISSUER: z
    .url({ protocol: /^https?$/ })
    .refine((value) => !value.endsWith('/') && !value.includes('?') && !value.includes('#'), 'no trailing slash, query or fragment')
    .optional(),
  /** TCP port the HTTP server listens on. */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Host the HTTP server binds to. */
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Postgres connection string; unset means embedded PGlite under DATA_DIR. */
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  /**
   * Seconds a database connection may sit idle in the pool before it is closed (and reopened on
   * demand). 30 is what the pool (tarn) does when not told.
   */
  DATABASE_IDLE_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(86400).default(30),
  /** Where the embedded database lives when DATABASE_URL is unset. */
  DATA_DIR: z.string().min(1).default('./data').transform((dir) => resolve(dir)),
  /** Redis for short-lived models; unset keeps them in SQL. */
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  /**
   * A Redis Cluster instead of one server: some of its nodes (the rest are discovered). The user,
   * password and rediss: of REDIS_URL, if set, apply to every node, and its host is one more seed.
   */
  REDIS_CLUSTER_NODES: hostPortList.optional(),
  /**
   * Redis behind Sentinel: the sentinels to ask where the master is (after a failover, the
   * promoted replica). The user, password and rediss: of REDIS_URL, if set, are the master's.
   */
  REDIS_SENTINELS: hostPortList.optional(),
  /** The name the sentinels monitor the master under (`sentinel monitor NAME ...`). */
  REDIS_SENTINEL_MASTER: z.string().regex(/^[A-Za-z0-9._-]+$/).default('mymaster'),
  /** Comma-separated keys signing cookies, newest first; unset means generated once and kept in the database. */
  COOKIE_KEYS: commaList
    .refine((keys) => keys.length > 0 && keys.every((key) => key.length >= 32), 'a comma-separated list of keys of 32 or more characters')
    .optional(),
  /** Who signs users in: local accounts, or a CAS server at CAS_URL. */
  IDENTITY: z.enum(['local', 'cas']).default('local'),
  CAS_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Where group membership comes from: the database, or Grouper WS at GROUPER_URL. */
  GROUPS: z.enum(['db', 'grouper']).default('db'),
  GROUPER_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** The login selector scope of user flows. */
  LOGIN_SCOPE: z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'a single scope token').default('auth-cas'),
  /** How long a group membership answer is trusted, in seconds (0 disables the cache). */
  GROUP_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  /** pino log level. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Seconds between janitor runs inside the server; 0 leaves cleanup to `gatehouse janitor`. */
  JANITOR_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(3600),
  /**
   * Seconds between SIGTERM and closing the listening socket, while /readyz answers 503 and
   * requests are still served: long enough for the load balancer's health check to take this
   * instance out, so no request is sent to a closed port. 0 closes at once (a lone instance).
   */
  SHUTDOWN_DRAIN_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  /**
   * Seconds a key made by `gatehouse keys rotate` is published before any instance signs with it:
   * longer than resource servers cache the JWKS, so none meets a token whose key it lacks.
   */
  KEY_ACTIVATION_DELAY_SECONDS: z.coerce.number().int().min(0).max(30 * 86400).default(3600),
  /**
   * Days an audit event is kept before the janitor removes it; 0 keeps them for ever. 400 covers
   * a yearly access review with a month to spare.
   */
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(0).max(36500).default(400),
  /**
   * The proxies in front of Gatehouse whose X-Forwarded-For entries are believed: none (false),
   * how many there are (a number; true is 1), or their addresses and CIDR ranges. The client
   * address is the rightmost entry they did not add: an entry a client wrote is never it.
   */
  TRUST_PROXY: z.string().transform((value, ctx) => {
    const trust = trustedProxies(value);
    if (!trust) ctx.addIssue({ code: 'custom', message: 'not a proxy count or address list' });
    return trust ?? z.NEVER;
  }).default({ kind: 'none' }),
  /**
   * The bearer token Prometheus sends for /metrics (its `authorization` setting); unset, /metrics
   * is not served. 32 characters at least, so it cannot be guessed; no spaces (a header token).
   */
  METRICS_TOKEN: z.string().regex(/^[\x21-\x7E]{32,}$/).optional(),
  /**
   * The key-encryption key sealing the private signing keys and cookie keys in the database:
   * 32 random bytes in base64, given directly or in a file. Required with DATABASE_URL; the
   * embedded database generates its own in DATA_DIR/key-encryption-key (0600) on first start.
   */
  KEY_ENCRYPTION_KEY: z.string().refine((text) => parseKeyEncryptionKey(text) !== undefined).optional(),
  KEY_ENCRYPTION_KEY_FILE: z.string().min(1).transform((path) => resolve(path)).optional(),
}).superRefine((env, ctx) => {
  if (env.KEY_ENCRYPTION_KEY && env.KEY_ENCRYPTION_KEY_FILE) {
    ctx.addIssue({ code: 'custom', path: ['KEY_ENCRYPTION_KEY_FILE'], message: 'required to be unset when KEY_ENCRYPTION_KEY is set: give the key one way' });
  }
  if (env.IDENTITY === 'cas' && !env.CAS_URL) {
    ctx.addIssue({ code: 'custom', path: ['CAS_URL'], message: 'required when IDENTITY=cas: the CAS server base URL, e.g. https://cas.example.edu/cas' });
  }
  if (env.REDIS_CLUSTER_NODES && env.REDIS_SENTINELS) {
    ctx.addIssue({ code: 'custom', path: ['REDIS_SENTINELS'], message: 'required to be unset when REDIS_CLUSTER_NODES is set: a Redis Cluster fails over by itself' });
  }
  if (env.GROUPS === 'grouper' && !env.GROUPER_URL) {
    ctx.addIssue({ code: 'custom', path: ['GROUPER_URL'], message: 'required when GROUPS=grouper: the Grouper WS base URL' });
  }
});

export interface Config {
  issuer: string;
  port: number;
  host: string;
  database: { kind: 'postgres'; url: string } | { kind: 'embedded'; dataDir: string };
  databaseIdleTimeoutSeconds: number;
  redisUrl: string | undefined;
  /** Seeds of a Redis Cluster (REDIS_URL then only gives credentials and TLS, and one more seed). */
  redisCluster: HostPort[] | undefined;
  /** Sentinels and the master's name (REDIS_URL then only gives the master's credentials and TLS). */
  redisSentinel: { sentinels: HostPort[]; masterName: string } | undefined;
  cookieKeys: string[] | undefined;
  identity: { kind: 'local' } | { kind: 'cas'; casUrl: string };
  groups: { kind: 'db' } | { kind: 'grouper'; grouperUrl: string };
  loginScope: string;
  groupCacheSeconds: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  janitorIntervalSeconds: number;
  shutdownDrainSeconds: number;
  keyActivationDelaySeconds: number;
  auditRetentionDays: number;
  trustProxy: TrustProxy;
  metricsToken: string | undefined;
  /** The operator's key-encryption key, if given (see src/key_encryption_key.ts for the embedded default). */
  keyEncryptionKey: Buffer | undefined;
}

export interface HostPort {
  host: string;
  port: number;
}

function hostPort(text: string): HostPort | undefined {
  // [v6 address]:port, or name-or-v4:port. Names as REDIS_URL takes them: Docker's container
  // names (project_redis_1) hold underscores, which resolvers answer though DNS names may not.
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65535) return undefined;
  return { host: match[1] ?? match[2]!, port };
}

/** Whose X-Forwarded-For entries are believed: nobody's, the nearest `hops` proxies', or those at these addresses. */
export type TrustProxy = { kind: 'none' } | { kind: 'hops'; hops: number } | { kind: 'addresses'; ranges: string[] };

function trustedProxies(value: string): TrustProxy | undefined {
  if (value === 'false' || value === '0') return { kind: 'none' };
  if (value === 'true') return { kind: 'hops', hops: 1 };
  // More than ten proxies in a row is a typo, not a network.
  if (/^\d+$/.test(value)) return Number(value) <= 10 ? { kind: 'hops', hops: Number(value) } : undefined;
  const ranges = value.split(',').map((part) => part.trim()).filter(Boolean);
  return ranges.length > 0 && ranges.every(isAddressOrRange) ? { kind: 'addresses', ranges } : undefined;
}

function isAddressOrRange(range: string): boolean {
  const [address, prefix, ...rest] = range.split('/');
  const family = isIP(address!);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

/** Thrown for a bad environment; its message is the one line an operator reads. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "not set", as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    throw new ConfigError(`invalid configuration: ${name}: ${describe(issue, name)}`);
  }
  const e = parsed.data;
  return {
    issuer: e.ISSUER ?? `http://localhost:${e.PORT}`,
    port: e.PORT,
    host: e.HOST,
    database: e.DATABASE_URL ? { kind: 'postgres', url: e.DATABASE_URL } : { kind: 'embedded', dataDir: e.DATA_DIR },
    databaseIdleTimeoutSeconds: e.DATABASE_IDLE_TIMEOUT_SECONDS,
    redisUrl: e.REDIS_URL,
    redisCluster: e.REDIS_CLUSTER_NODES,
    redisSentinel: e.REDIS_SENTINELS ? { sentinels: e.REDIS_SENTINELS, masterName: e.REDIS_SENTINEL_MASTER } : undefined,
    cookieKeys: e.COOKIE_KEYS,
    identity: e.IDENTITY === 'cas' ? { kind: 'cas', casUrl: e.CAS_URL!.replace(/\/$/, '') } : { kind: 'local' },
    groups: e.GROUPS === 'grouper' ? { kind: 'grouper', grouperUrl: e.GROUPER_URL!.replace(/\/$/, '') } : { kind: 'db' },
    loginScope: e.LOGIN_SCOPE,
    groupCacheSeconds: e.GROUP_CACHE_SECONDS,
    logLevel: e.LOG_LEVEL,
    janitorIntervalSeconds: e.JANITOR_INTERVAL_SECONDS,
    shutdownDrainSeconds: e.SHUTDOWN_DRAIN_SECONDS,
    keyActivationDelaySeconds: e.KEY_ACTIVATION_DELAY_SECONDS,
    auditRetentionDays: e.AUDIT_RETENTION_DAYS,
    trustProxy: e.TRUST_PROXY,
    metricsToken: e.METRICS_TOKEN,
    keyEncryptionKey: e.KEY_ENCRYPTION_KEY ? parseKeyEncryptionKey(e.KEY_ENCRYPTION_KEY) : e.KEY_ENCRYPTION_KEY_FILE ? readKeyFile(e.KEY_ENCRYPTION_KEY_FILE) : undefined,
  };
}

/** What each variable accepts, as the one line an operator reads when a value is refused. */
const ACCEPTS: Record<string, string> = {
  ISSUER: 'an http(s) URL with no trailing slash, query or fragment, e.g. https://login.example.edu',
  PORT: 'an integer from 0 to 65535',
  HOST: 'a host name or address to bind to',
  DATABASE_URL: 'a postgres:// or postgresql:// connection URL',
  DATABASE_IDLE_TIMEOUT_SECONDS: 'an integer number of seconds from 1 to 86400',
  DATA_DIR: 'a directory path',
  REDIS_URL: 'a redis:// or rediss:// URL',
  REDIS_CLUSTER_NODES: 'a comma-separated list of host:port, e.g. redis-1:6379,redis-2:6379',
  REDIS_SENTINELS: 'a comma-separated list of host:port, e.g. sentinel-1:26379,sentinel-2:26379',
  REDIS_SENTINEL_MASTER: 'a master name as the sentinels know it (letters, digits, . _ -), e.g. mymaster',
  COOKIE_KEYS: 'a comma-separated list of keys of 32 or more characters',
  IDENTITY: 'local or cas',
  CAS_URL: 'an http(s) URL of the CAS server, e.g. https://cas.example.edu/cas',
  GROUPS: 'db or grouper',
  GROUPER_URL: 'an http(s) URL of Grouper WS',
  LOGIN_SCOPE: 'a single scope token, e.g. auth-cas',
  GROUP_CACHE_SECONDS: 'an integer number of seconds from 0 to 3600',
  LOG_LEVEL: 'one of fatal, error, warn, info, debug, trace, silent',
  JANITOR_INTERVAL_SECONDS: 'an integer number of seconds, 0 to disable',
  SHUTDOWN_DRAIN_SECONDS: 'an integer number of seconds from 0 to 300',
  KEY_ACTIVATION_DELAY_SECONDS: 'an integer number of seconds from 0 to 2592000',
  AUDIT_RETENTION_DAYS: 'an integer number of days from 0 (keep for ever) to 36500',
  TRUST_PROXY: 'false, the number of proxies in front (true is 1), or a comma-separated list of their addresses or CIDR ranges, e.g. 10.0.0.0/8,::1',
  METRICS_TOKEN: 'a token of 32 or more printable characters without spaces, e.g. from openssl rand -hex 32',
  KEY_ENCRYPTION_KEY: '32 random bytes in base64, e.g. from openssl rand -base64 32',
  KEY_ENCRYPTION_KEY_FILE: 'a readable file holding 32 random bytes in base64, e.g. made by openssl rand -base64 32 > FILE',
};

function describe(issue: z.core.$ZodIssue, name: string): string {
  // Cross-variable rules carry their own sentence; a value is never echoed (it may hold a password).
  return issue.code === 'custom' && issue.message.startsWith('required') ? issue.message : `expected ${ACCEPTS[name] ?? issue.message}`;
}

/** A key-encryption key as operators write it: 32 random bytes in base64 or base64url (`openssl rand -base64 32`). */
export function parseKeyEncryptionKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) return undefined;
  const key = Buffer.from(trimmed, 'base64');
  return key.length === 32 ? key : undefined;
}

function readKeyFile(path: string): Buffer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`invalid configuration: KEY_ENCRYPTION_KEY_FILE: cannot read ${path} (${(error as NodeJS.ErrnoException).code})`);
  }
  const key = parseKeyEncryptionKey(text);
  if (!key) throw new ConfigError(`invalid configuration: KEY_ENCRYPTION_KEY_FILE: expected ${ACCEPTS.KEY_ENCRYPTION_KEY_FILE}`);
  return key;
}
