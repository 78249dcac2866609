import type { Knex } from 'knex';
import type { EnterpriseScope } from '../policy/scope_policy.ts';
import { scopeCatalogue, type ScopeEntry } from '../policy/scope_catalogue.ts';

const TABLE = 'enterprise_scopes';

export async function defineEnterpriseScope(db: Knex, scope: EnterpriseScope): Promise<void> {
  await db(TABLE)
    .insert({ name: scope.name, group_name: scope.group, description: scope.description, updated_at: new Date() })
    .onConflict('name').merge();
}

export async function listEnterpriseScopes(db: Knex): Promise<EnterpriseScope[]> {
  const rows: { name: string; group_name: string; description: string }[] = await db(TABLE).select('name', 'group_name', 'description').orderBy('name');
  return rows.map((row) => ({ name: row.name, group: row.group_name, description: row.description }));
}

/** The deployment's whole catalogue as defined now: fixed scopes, the login scope, enterprise scopes. */
export async function loadScopeCatalogue(db: Knex, loginScope: string): Promise<ReadonlyMap<string, ScopeEntry>> {
  return scopeCatalogue(loginScope, await listEnterpriseScopes(db));
}
