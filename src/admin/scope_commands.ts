import type { Knex } from 'knex';
import { enterpriseScopeNameProblem, scopeCatalogue } from '../policy/scope_catalogue.ts';
import type { EnterpriseScope } from '../policy/scope_policy.ts';
import { defineEnterpriseScope } from '../storage/enterprise_scopes.ts';
import { UsageError, type CommandResult } from './output.ts';
import { auditOperator } from './operator.ts';

/** `scopes define`: a scope granted to people in GROUP (defining the login scope gives it a group). */
export function defineScope(name: string, flags: { group?: string | undefined; description?: string | undefined }, loginScope: string): (db: Knex) => Promise<CommandResult> {
  const problem = enterpriseScopeNameProblem(name, loginScope);
  if (problem) throw new UsageError(problem);
  if (!flags.group?.trim()) throw new UsageError('scopes define needs --group');
  if (!flags.description?.trim()) throw new UsageError('scopes define needs --description (people read it on the consent page)');
  const scope: EnterpriseScope = { name, group: flags.group.trim(), description: flags.description.trim() };
  return (db) => db.transaction(async (trx) => {
    await defineEnterpriseScope(trx, scope);
    await auditOperator(trx, { event: 'scope.defined', detail: { scope: scope.name, group: scope.group } });
    return { json: scope, text: `defined ${name}: members of ${scope.group} ("${scope.description}")` };
  });
}

export function listScopes(loginScope: string, enterprise: EnterpriseScope[]): CommandResult {
  const catalogue = scopeCatalogue(loginScope, enterprise);
  const groups = new Map(enterprise.map((scope) => [scope.name, scope.group]));
  const scopes = [...catalogue].map(([name, entry]) => ({ name, kind: entry.kind, description: entry.description, ...(groups.has(name) ? { group: groups.get(name) } : {}) }));
  return {
    json: scopes,
    text: scopes.map((s) => `${s.name.padEnd(16)} ${s.kind.padEnd(15)} ${s.description}${s.group ? `  [group ${s.group}]` : ''}`).join('\n'),
  };
}
