import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Router from '@koa/router';
import { Provider, type KoaContextWithOIDC } from 'oidc-provider';
import type { Context, Middleware } from 'koa';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import type { Database, Knex } from './storage/database.ts';
import { redisReady, type Redis } from './storage/redis.ts';
import type { ClientCache } from './storage/client_changes.ts';
import { KEY_CHANGES_CHANNEL, loadSigningKeys } from './storage/signing_keys.ts';
import { PUBLISHED_AFTER_RETIREMENT_SECONDS, SigningKeyRing } from './provider/signing_key_ring.ts';
import { acceptHintsFromEarlierKeys } from './provider/id_token_hints.ts';
import { loadCookieKeys } from './storage/settings.ts';
import { keyEncryptionKeyFor } from './key_encryption_key.ts';
import { providerConfiguration, type ProviderStorage } from './provider/configuration.ts';
import { adapterFactory } from './storage/adapter_router.ts';
import { scopeCatalogue } from './policy/scope_catalogue.ts';
import { describeScope } from './i18n/scope_descriptions.ts';
import type { Messages } from './i18n/messages.ts';
import { useHashedClientSecrets } from './provider/client_secret.ts';
import { formPostInPersonsLanguage } from './provider/form_post_page.ts';
import { cacheClientFind } from './provider/cached_clients.ts';
import { acceptIssuerTokensAtUserinfo } from './provider/userinfo_tokens.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { securityHeaders } from './security_headers.ts';
import { observe } from './observe.ts';
import { serveAsIssuer } from './proxy_headers.ts';
import { requireMetricsToken } from './metrics_access.ts';
import { rfcErrorCodes, sayWhenGrantsExpired } from './provider/rfc_errors.ts';
import { revokeGrantOnConcurrentReuse } from './provider/grant_reuse.ts';
import { logBackchannelLogout } from './provider/backchannel_logout.ts';
import { findAccount } from './provider/find_account.ts';
import { AccountStore } from './storage/accounts.ts';
import { groupSource } from './identity/group_source.ts';
import { ScopeService } from './provider/scope_service.ts';
import { liveIntrospection } from './provider/live_introspection.ts';
import { OIDC_SCOPES } from './policy/scope_policy.ts';
import { errorPages, markOutages } from './error_pages.ts';
import { isUnavailable } from './storage/errors.ts';
import { interactionRoutes } from './interactions/routes.ts';
import { createLoginLimits } from './interactions/login_limits.ts';
import { CasSessions } from './storage/cas_sessions.ts';
import { rememberCasSessions } from './interactions/cas_logout.ts';
import { registrationRoutes } from './registration/routes.ts';
import type { AuditWriter } from './storage/audit_log.ts';
import { auditProviderEvents, auditRevocations } from './provider/audit_events.ts';
import { accountRoutes } from './account/routes.ts';
import { trackAccountActivity } from './account/activity.ts';
import { ACCOUNT_PATH } from './account/page_client.ts';

export interface AppDeps {
  config: Config;
  logger: Logger;
  database: Database;
  redis: Redis | undefined;
  clientCache: ClientCache;
  /** Where requests record audit events (buffered: src/storage/audit_log.ts). */
  audit: AuditWriter;
  /** Redis key prefix (tests isolate themselves with it). */
  redisPrefix?: string;
  /** Re-check scopes against live groups at introspection (default). Off only where the benchmark measures its cost. */
  liveIntrospection?: boolean;
  /** True once shutdown has begun (src/main.ts): /readyz then tells the load balancer to send nothing more. */
  draining?: () => boolean;
}

/** oidc-provider as Gatehouse configures it, and the parts of it Gatehouse's routes use too. */
export interface ConfiguredProvider {
  provider: Provider;
  accounts: AccountStore;
  scopeService: ScopeService;
  cookieKeys: string[];
  keys: SigningKeyRing;
}

/**
 * The provider with Gatehouse's configuration and hooks (keys, scope policy, accounts, hashed
 * client secrets, revocation on concurrent reuse) and no Gatehouse middleware. createApp builds
 * on it; the benchmark's baseline is the same call on oidc-provider's memory adapter.
 */
export async function configureProvider(config: Config, db: Knex, storage: ProviderStorage, issuer = config.issuer): Promise<ConfiguredProvider> {
  const kek = await keyEncryptionKeyFor(config);
  const cookieKeys = config.cookieKeys ?? (await loadCookieKeys(db, kek));
  const accounts = new AccountStore(db);
  const groups = groupSource(config, db);
  const scopeService = new ScopeService(db, config, accounts, groups);
  const keys = await SigningKeyRing.open(async () => ({
    main: await loadSigningKeys(db, 'main', kek, PUBLISHED_AFTER_RETIREMENT_SECONDS),
    restricted: await loadSigningKeys(db, 'restricted', kek, PUBLISHED_AFTER_RETIREMENT_SECONDS),
  }));
  const provider = new Provider(issuer, providerConfiguration({
    issuer,
    storage,
    db,
    signingKeys: keys.keystore(),
    cookieKeys,
    scopes: [...OIDC_SCOPES],
    findAccount: findAccount(accounts, groups),
    scopeService,
    accessTokenKeys: {
      get mainKid() { return keys.signing('main', 'RS256').kid; },
      get restrictedKid() { return keys.signing('restricted', 'RS256').kid; },
    },
  }));
  useHashedClientSecrets(provider);
  formPostInPersonsLanguage(provider);
  revokeGrantOnConcurrentReuse(provider);
  acceptHintsFromEarlierKeys(provider, keys);
  return { provider, accounts, scopeService, cookieKeys, keys };
}

/** The provider with Gatehouse's own routes and middleware in front of it: one koa app. */
export async function createApp(deps: AppDeps): Promise<Provider> {
  const { config, logger, database, redis } = deps;
  const db = database.knex;
  const redisPrefix = deps.redisPrefix ?? 'gatehouse:';
  const { provider, accounts, scopeService, cookieKeys, keys } = await configureProvider(config, db, { adapter: adapterFactory({ db, redis, redisPrefix }) });
  cacheClientFind(provider, deps.clientCache);
  // A rotation by the CLI reaches every instance; a reconnect reloads too, in case one was missed.
  await deps.clientCache.onNotify(KEY_CHANGES_CHANNEL, () => keys.reload().catch((err: unknown) => logger.error({ err }, 'reloading signing keys failed')));
  acceptIssuerTokensAtUserinfo(provider, { issuer: config.issuer, publicKeys: () => [...keys.published('main'), ...keys.published('restricted')] });
  const catalogue = scopeCatalogue(config.loginScope);
  const metrics = createMetrics(provider, { knex: db, redis, audit: deps.audit });
  markOutages(provider);
  provider.on('server_error', (ctx: KoaContextWithOIDC, error: Error) => {
    if (isUnavailable(error)) return;
    logger.error({ err: error, route: ctx.oidc?.route, method: ctx.method }, 'request failed');
  });
  logBackchannelLogout(provider, logger);
  const usernameOf = (accountId: string) => scopeService.username(accountId);
  auditProviderEvents(provider, deps.audit, usernameOf);
  // First: every later step, oidc-provider's included, sees the request as one to ISSUER.
  provider.use(serveAsIssuer(provider, config, logger));
  provider.use(securityHeaders);
  provider.use(observe(metrics, logger));
  provider.use(rfcErrorCodes);
  sayWhenGrantsExpired(provider);
  provider.use(errorPages(logger));
  provider.use(onlyFor(atProviderPath('/token/revocation'), auditRevocations(deps.audit, usernameOf)));
  if (deps.liveIntrospection !== false) provider.use(onlyFor(atProviderPath('/token/introspection'), liveIntrospection(scopeService)));
  const casSessions = new CasSessions({ db, redis, redisPrefix });
  if (config.identity.kind === 'cas') provider.use(rememberCasSessions(casSessions));
  const accountActivity = trackAccountActivity(provider, db, logger);
  // Sessions are used (and their activity noted) at the authorization endpoint and its resume.
  provider.use(onlyFor((ctx) => ctx.path.startsWith('/auth'), accountActivity.middleware));
  provider.use(onlyFor((ctx) => ctx.method === 'GET' || ctx.method === 'OPTIONS', ownRoutes(deps, metrics, keys)));
  // What a person reads for a scope, in their language: on the consent page and the account page alike.
  const csrfKey = createHmac('sha256', cookieKeys[0]!).update('gatehouse-csrf-key').digest('base64url');
  const scopeDescription = async (name: string, messages: Messages) => describeScope(name, catalogue.get(name) ?? (await scopeService.enterpriseScopes()).get(name), messages);
  provider.use(onlyFor((ctx) => ctx.path.startsWith('/interaction/'), interactionRoutes({
    provider,
    config,
    logger,
    accounts,
    describeScope: scopeDescription,
    limits: createLoginLimits({ db, redis, prefix: redisPrefix }),
    csrfKey,
    casSessions,
    signIn: metrics.signIn,
    audit: deps.audit,
  })));
  provider.use(onlyFor((ctx) => ctx.path === ACCOUNT_PATH || ctx.path.startsWith(`${ACCOUNT_PATH}/`), accountRoutes({
    provider,
    issuer: config.issuer,
    stores: { db, redis, redisPrefix },
    accounts,
    audit: deps.audit,
    activity: accountActivity.activity,
    describeScope: scopeDescription,
    csrfKey,
  })));
  provider.use(onlyFor((ctx) => ctx.path === '/reg' || ctx.path.startsWith('/reg/'), registrationRoutes({ db, issuer: config.issuer, loginScope: config.loginScope })));
  return provider;
}

/**
 * A request for an oidc-provider endpoint, as its router matches paths (lib/helpers/router.js): in
 * any case, and with a trailing slash. A plain comparison would let `/Token/Revocation` reach the
 * endpoint without the middleware meant for it.
 */
function atProviderPath(path: string): (ctx: Context) => boolean {
  const pattern = new RegExp(`^${path}/?$`, 'i');
  return (ctx) => pattern.test(ctx.path);
}

/**
 * A router or middleware that runs only for the requests it concerns: every other request (the
 * token endpoint's thousands a second) passes by without another async frame around it.
 */
function onlyFor(applies: (ctx: Context) => boolean, handler: Router | Middleware): Middleware {
  const middleware = (typeof handler === 'function' ? handler : handler.routes()) as unknown as Middleware;
  return (ctx, next) => (applies(ctx) ? middleware(ctx, next) : next());
}

const STYLESHEET = readFileSync(new URL('../public/gatehouse.css', import.meta.url));
const ICON = readFileSync(new URL('../public/favicon.svg', import.meta.url));

function ownRoutes(deps: AppDeps, metrics: Metrics, keys: SigningKeyRing): Router {
  const router = new Router();
  // Served here rather than by oidc-provider, whose keystore also holds the restricted keys:
  // /jwks must never contain them, or every resource server would accept restricted tokens.
  router.get('/jwks', anyOrigin, (ctx) => {
    ctx.type = 'application/jwk-set+json; charset=utf-8';
    ctx.body = { keys: keys.published('main') };
  });
  router.get('/jwks/restricted', anyOrigin, (ctx) => {
    ctx.type = 'application/jwk-set+json; charset=utf-8';
    ctx.body = { keys: keys.published('restricted') };
  });
  router.options(['/jwks', '/jwks/restricted'], anyOrigin);
  // Browsers ask for /favicon.ico on every page whatever the page links; an SVG answers both.
  router.get(['/favicon.ico', '/static/favicon.svg'], (ctx) => {
    ctx.type = 'image/svg+xml';
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = ICON;
  });
  router.get('/static/gatehouse.css', (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = STYLESHEET;
  });
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    // Checked first: a draining instance is not ready however healthy its database is.
    if (deps.draining?.()) {
      ctx.status = 503;
      ctx.body = { status: 'draining' };
      return;
    }
    // Side by side: each probe is bounded (src/storage/database.ts, redis.ts), so is the answer.
    const [database, redis] = await Promise.all([probe(() => deps.database.knex.raw('SELECT 1')), deps.redis ? probe(() => redisReady(deps.redis!)) : 'not configured' as const]);
    const checks = { database, redis };
    const ready = Object.values(checks).every((state) => state !== 'unreachable');
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'unavailable', checks };
  });
  // Metrics tell an attacker what is being tried and when: not served without METRICS_TOKEN.
  const metricsToken = deps.config.metricsToken;
  if (metricsToken) {
    router.get('/metrics', requireMetricsToken(metricsToken), async (ctx) => {
      ctx.type = metrics.registry.contentType;
      ctx.body = await metrics.registry.metrics();
    });
  }
  return router;
}

/**
 * Public keys are public: browser libraries that verify id_tokens fetch them from any page, as
 * they fetch discovery (which oidc-provider already opens). No credentials, so `*`.
 */
const anyOrigin: Middleware = async (ctx, next) => {
  ctx.set('Access-Control-Allow-Origin', '*');
  if (ctx.method !== 'OPTIONS') return next();
  ctx.set('Access-Control-Allow-Methods', 'GET');
  ctx.set('Access-Control-Max-Age', '3600');
  ctx.status = 204;
};

async function probe(check: () => Promise<unknown>): Promise<'ok' | 'unreachable'> {
  try {
    await check();
    return 'ok';
  } catch {
    return 'unreachable';
  }
}
