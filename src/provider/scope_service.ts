import type { Knex } from 'knex';
import type { Config } from '../config.ts';
import type { AccountStore } from '../storage/accounts.ts';
import type { GroupSource } from '../identity/group_source.ts';
import { TtlCache } from '../ttl_cache.ts';
import { listEnterpriseScopes } from '../storage/enterprise_scopes.ts';
import type { EnterpriseScope, Flow, ScopeRequest } from '../policy/scope_policy.ts';
import type { Organizations } from '../policy/client_kinds.ts';
import { parseScope } from '../policy/requested_scopes.ts';

/** The client metadata the policy reads. */
export interface PolicyClient {
  allowedScopes?: string | undefined;
  organizations?: Organizations | undefined;
}

/** Reads Gatehouse's extra metadata off an oidc-provider Client (it keeps their snake_case names). */
export function policyClient(client: object): PolicyClient {
  const extra = client as { allowed_scopes?: string; organizations?: Organizations };
  return { allowedScopes: extra.allowed_scopes, organizations: extra.organizations };
}

/**
 * Feeds the pure policy (src/policy/scope_policy.ts) with what it needs from the outside world:
 * the enterprise scopes as defined now and the person's live groups, both through short caches.
 */
export class ScopeService {
  readonly #db: Knex;
  readonly #config: Config;
  readonly #accounts: AccountStore;
  readonly #groups: GroupSource;
  readonly #enterprise: TtlCache<ReadonlyMap<string, EnterpriseScope>>;
  readonly #usernames = new TtlCache<string | undefined>('usernames', 300);

  constructor(db: Knex, config: Config, accounts: AccountStore, groups: GroupSource) {
    this.#db = db;
    this.#config = config;
    this.#accounts = accounts;
    this.#groups = groups;
    this.#enterprise = new TtlCache('enterprise_scopes', config.groupCacheSeconds);
  }

  enterpriseScopes(): Promise<ReadonlyMap<string, EnterpriseScope>> {
    return this.#enterprise.get('all', async () => new Map((await listEnterpriseScopes(this.#db)).map((scope) => [scope.name, scope])));
  }

  /** The account's username (accounts are never renamed, so this caches well). */
  username(accountId: string): Promise<string | undefined> {
    return this.#usernames.get(accountId, async () => (await this.#accounts.findById(accountId))?.username);
  }

  /**
   * Everything the pure policy needs to decide on these scopes (decideScopes, liveScopes),
   * gathered once: callers may ask both questions without looking the groups up twice.
   */
  async request(flow: Flow, requested: readonly string[], client: PolicyClient, accountId: string | undefined): Promise<ScopeRequest> {
    const username = accountId ? await this.username(accountId) : undefined;
    return {
      flow,
      requested,
      allowed: parseScope(client.allowedScopes),
      loginScope: this.#config.loginScope,
      enterprise: await this.enterpriseScopes(),
      organizations: client.organizations ?? {},
      // Before sign-in nobody's groups are known; an unknown account is a member of nothing.
      memberships: accountId === undefined ? undefined : new Set(username ? await this.#groups.groupsOf(username) : []),
    };
  }
}
