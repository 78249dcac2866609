/**
 * The scope catalogue: every scope Gatehouse knows, what kind it is and how it is described
 * to the person approving it. Declared once; the provider, the CLI and the consent page read it.
 */
export type ScopeKind = 'oidc' | 'claims' | 'refresh' | 'generic' | 'login-selector' | 'org-filter' | 'enterprise';

export interface ScopeEntry {
  kind: ScopeKind;
  description: string;
}

const FIXED_SCOPES: Readonly<Record<string, ScopeEntry>> = Object.freeze({
  openid: { kind: 'oidc', description: 'Sign you in and know who you are' },
  profile: { kind: 'claims', description: 'Your name and username' },
  email: { kind: 'claims', description: 'Your email address' },
  groups: { kind: 'claims', description: 'The names of the groups you belong to' },
  offline_access: { kind: 'refresh', description: 'Keep access while you are away' },
  read: { kind: 'generic', description: 'Read data on your behalf' },
  create: { kind: 'generic', description: 'Create data on your behalf' },
  update: { kind: 'generic', description: 'Change data on your behalf' },
  delete: { kind: 'generic', description: 'Delete data on your behalf' },
  'auth-none': { kind: 'login-selector', description: 'Act as a server, without a signed-in person' },
  user_org: { kind: 'org-filter', description: 'Data limited to your organization' },
  course_org: { kind: 'org-filter', description: 'Data limited to the organization of a course' },
});

/** The catalogue for a deployment: the fixed scopes, its login selector scope and its enterprise scopes. */
export function scopeCatalogue(loginScope: string, enterprise: readonly { name: string; description: string }[] = []): ReadonlyMap<string, ScopeEntry> {
  return new Map<string, ScopeEntry>([
    ...Object.entries(FIXED_SCOPES),
    [loginScope, { kind: 'login-selector', description: 'Sign in with your institutional account' }],
    ...enterprise.filter((scope) => scope.name !== loginScope).map((scope): [string, ScopeEntry] => [scope.name, { kind: 'enterprise', description: scope.description }]),
  ]);
}

/** Why a name cannot be defined as an enterprise scope, or undefined when it can. */
export function enterpriseScopeNameProblem(name: string, loginScope: string): string | undefined {
  if (!/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(name)) return `${JSON.stringify(name)} is not a scope token (no spaces, quotes or backslashes)`;
  if (name !== loginScope && name in FIXED_SCOPES) return `${name} is a built-in scope and cannot be backed by a group`;
  return undefined;
}
