/**
 * The scope catalogue: every scope Gatehouse knows, what kind it is and how it is described
 * to the person approving it. Declared once; the provider, the CLI and the consent page read it.
 */
import { en, type ScopeMessageKey } from '../i18n/en.ts';

export type ScopeKind = 'oidc' | 'claims' | 'refresh' | 'generic' | 'login-selector' | 'org-filter' | 'enterprise';

export interface ScopeEntry {
  kind: ScopeKind;
  /** In English: what the CLI prints (and an enterprise scope's operator text, shown as given). */
  description: string;
  /** The message pages show instead, in the person's language (src/i18n/): built-in scopes only. */
  message?: ScopeMessageKey;
}

function builtIn(kind: ScopeKind, message: ScopeMessageKey): ScopeEntry {
  return { kind, description: en[message], message };
}

const FIXED_SCOPES: Readonly<Record<string, ScopeEntry>> = Object.freeze({
  openid: builtIn('oidc', 'scope.openid'),
  profile: builtIn('claims', 'scope.profile'),
  email: builtIn('claims', 'scope.email'),
  groups: builtIn('claims', 'scope.groups'),
  offline_access: builtIn('refresh', 'scope.offline_access'),
  read: builtIn('generic', 'scope.read'),
  create: builtIn('generic', 'scope.create'),
  update: builtIn('generic', 'scope.update'),
  delete: builtIn('generic', 'scope.delete'),
  'auth-none': builtIn('login-selector', 'scope.auth-none'),
  user_org: builtIn('org-filter', 'scope.user_org'),
  course_org: builtIn('org-filter', 'scope.course_org'),
});

/** The catalogue for a deployment: the fixed scopes, its login selector scope and its enterprise scopes. */
export function scopeCatalogue(loginScope: string, enterprise: readonly { name: string; description: string }[] = []): ReadonlyMap<string, ScopeEntry> {
  return new Map<string, ScopeEntry>([
    ...Object.entries(FIXED_SCOPES),
    [loginScope, builtIn('login-selector', 'scope.login')],
    ...enterprise.filter((scope) => scope.name !== loginScope).map((scope): [string, ScopeEntry] => [scope.name, { kind: 'enterprise', description: scope.description }]),
  ]);
}

/** Why a name cannot be defined as an enterprise scope, or undefined when it can. */
export function enterpriseScopeNameProblem(name: string, loginScope: string): string | undefined {
  if (!/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(name)) return `${JSON.stringify(name)} is not a scope token (no spaces, quotes or backslashes)`;
  if (name !== loginScope && name in FIXED_SCOPES) return `${name} is a built-in scope and cannot be backed by a group`;
  return undefined;
}
