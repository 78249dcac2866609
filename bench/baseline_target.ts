import { Provider, type ClientMetadata } from 'oidc-provider';
import { providerConfiguration } from '../src/provider/configuration.ts';
import { useHashedClientSecrets } from '../src/provider/client_secret.ts';
import { revokeGrantOnConcurrentReuse } from '../src/provider/grant_reuse.ts';
import { findAccount } from '../src/provider/find_account.ts';
import { ScopeService } from '../src/provider/scope_service.ts';
import { OIDC_SCOPES } from '../src/policy/scope_policy.ts';
import { groupSource } from '../src/identity/group_source.ts';
import { AccountStore } from '../src/storage/accounts.ts';
import { loadSigningKeys, newestKid } from '../src/storage/signing_keys.ts';
import { loadCookieKeys } from '../src/storage/settings.ts';
import type { SharedSetup } from './gatehouse_target.ts';
import { listen, type Target } from './listen.ts';

/**
 * The yardstick: Gatehouse's oidc-provider configuration, built from the same inputs as
 * createApp (src/app.ts) builds it (keys, features, TTLs, the scope policy behind resource
 * indicators, hashed secret comparison), on oidc-provider's in-memory adapter, with the same
 * clients registered statically. No Gatehouse koa middleware: this is bare oidc-provider.
 * Keep it in step with createApp's `providerConfiguration` call.
 */
export async function startBaselineTarget({ config, db, storedClients }: SharedSetup): Promise<Target> {
  const http = await listen();
  const accounts = new AccountStore(db);
  const groups = groupSource(config, db);
  const [mainKeys, restrictedKeys] = await Promise.all([loadSigningKeys(db, 'main'), loadSigningKeys(db, 'restricted')]);
  const { adapter: _gatehouseStorage, ...configuration } = providerConfiguration({
    issuer: http.url,
    // Only the adapter factory reads stores, and it is dropped.
    stores: { db },
    signingKeys: [...mainKeys, ...restrictedKeys],
    cookieKeys: config.cookieKeys ?? (await loadCookieKeys(db)),
    scopes: [...OIDC_SCOPES],
    findAccount: findAccount(accounts, groups),
    // The policy reads enterprise scopes through its cache: one query per cache period, as in Gatehouse.
    scopeService: new ScopeService(db, config, accounts, groups),
    accessTokenKeys: { mainKid: newestKid(mainKeys, 'RS256'), restrictedKid: newestKid(restrictedKeys, 'RS256') },
  });
  const provider = new Provider(http.url, {
    ...configuration,
    clients: storedClients.map((client) => ({ ...client }) as unknown as ClientMetadata),
  });
  useHashedClientSecrets(provider);
  revokeGrantOnConcurrentReuse(provider);
  http.serve(provider.callback());
  return { name: 'baseline', url: http.url, close: http.close };
}
