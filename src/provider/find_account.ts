import type { FindAccount } from 'oidc-provider';
import { AccountStore } from '../storage/accounts.ts';
import type { GroupSource } from '../identity/group_source.ts';
import { personClaims } from '../policy/claims.ts';

/**
 * oidc-provider's findAccount: the account as stored (attributes as last seen at login), so
 * userinfo and refresh answer while the person is away. Groups are looked up only when a
 * claim needs them.
 */
export function findAccount(accounts: AccountStore, groups: GroupSource): FindAccount {
  return async (_ctx, sub) => {
    const account = await accounts.findById(sub);
    // A disabled account is no one: refresh is invalid_grant and userinfo 401, even for a JWT.
    if (!account || account.disabledAt) return undefined;
    return {
      accountId: account.id,
      // Read by the audit log (src/provider/audit_events.ts): the token's person by name, without another query.
      username: account.username,
      claims: async (_use, scope) => {
        const wantsGroups = scope.split(' ').includes('groups');
        return personClaims(account, wantsGroups ? await groups.groupsOf(account.username) : []) as { sub: string };
      },
    };
  };
}
