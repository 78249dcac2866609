import type { Organizations } from './client_kinds.ts';
import { SCOPE_CLAIMS } from './claims.ts';

/**
 * Every grant decision of the scope model (DESIGN "Scope catalogue"), as one pure function:
 * what a client asked for, what it may ask for, what the person or server is entitled to.
 */
export type Flow = 'user' | 'client_credentials';

export interface EnterpriseScope {
  name: string;
  group: string;
  description: string;
}

export interface ScopeRequest {
  flow: Flow;
  requested: readonly string[];
  /** The client's allowed scopes. */
  allowed: readonly string[];
  loginScope: string;
  /** Enterprise scopes by name; the login scope is one too when it has a group. */
  enterprise: ReadonlyMap<string, EnterpriseScope>;
  organizations: Organizations;
  /** The person's groups; undefined before anyone has signed in (the decision is then provisional). */
  memberships?: ReadonlySet<string> | undefined;
}

export type ScopeDecision =
  | { ok: true; granted: string[]; dropped: string[]; filters: string[] }
  | { ok: false; error: 'invalid_scope'; description: string; scope: string };

export const GENERIC_SCOPES: ReadonlySet<string> = new Set(['read', 'create', 'update', 'delete']);
export const ORG_FILTER_SCOPES: ReadonlySet<string> = new Set(['user_org', 'course_org']);
/** Scopes oidc-provider itself handles: claims for the person, and refresh. */
export const OIDC_SCOPES: ReadonlySet<string> = new Set([...Object.keys(SCOPE_CLAIMS), 'offline_access']);
export const AUTH_NONE = 'auth-none';

export function decideScopes(request: ScopeRequest): ScopeDecision {
  const { flow, requested, loginScope, enterprise, memberships } = request;
  const allowed = new Set(request.allowed);
  const refuse = (scopes: string[], why: string): ScopeDecision => ({ ok: false, error: 'invalid_scope', description: `${why}: ${scopes.join(' ')}`, scope: scopes.join(' ') });

  const notAllowed = requested.filter((scope) => !allowed.has(scope));
  if (notAllowed.length) return refuse(notAllowed, 'scope not allowed for this client');
  const wrongFlow = requested.filter((scope) => (flow === 'user' ? scope === AUTH_NONE : scope === loginScope || OIDC_SCOPES.has(scope)));
  if (wrongFlow.length) {
    return refuse(wrongFlow, flow === 'user' ? 'scope only for client credentials' : 'scope only for a signed-in person');
  }

  const member = (group: string) => memberships === undefined || memberships.has(group);
  const loginGroup = enterprise.get(loginScope)?.group;
  const signedInThroughLogin = flow === 'user' && requested.includes(loginScope) && (loginGroup === undefined || member(loginGroup));

  const granted: string[] = [];
  const dropped: string[] = [];
  for (const scope of requested) {
    let grant: boolean;
    if (scope === loginScope) grant = signedInThroughLogin;
    else if (enterprise.has(scope)) grant = flow === 'client_credentials' || (signedInThroughLogin && member(enterprise.get(scope)!.group));
    else if (ORG_FILTER_SCOPES.has(scope)) grant = request.organizations[scope as keyof Organizations] !== undefined;
    // Generic, OIDC (user flows, checked above) and auth-none (client credentials, checked above).
    else if (GENERIC_SCOPES.has(scope) || OIDC_SCOPES.has(scope) || scope === AUTH_NONE) grant = true;
    // Anything else is in no catalogue any more (say, an enterprise scope since removed): never granted.
    else grant = false;
    (grant ? granted : dropped).push(scope);
  }
  return { ok: true, granted, dropped, filters: orgFilters(granted, request.organizations) };
}

/** The `filters` claim for granted org filter scopes, e.g. ["course_org:MITx"]. */
export function orgFilters(scopes: readonly string[], organizations: Organizations): string[] {
  return scopes
    .filter((scope) => ORG_FILTER_SCOPES.has(scope) && organizations[scope as keyof Organizations] !== undefined)
    .map((scope) => `${scope}:${organizations[scope as keyof Organizations]}`);
}

/**
 * The live view of an issued token, at introspection: the scopes still granted today, or
 * inactive when the person has lost the login scope's group.
 */
export function liveScopes(request: ScopeRequest): { active: true; granted: string[]; filters: string[] } | { active: false } {
  const decision = decideScopes(request);
  if (!decision.ok) return { active: false };
  if (request.flow === 'user' && request.requested.includes(request.loginScope) && decision.dropped.includes(request.loginScope)) return { active: false };
  return { active: true, granted: decision.granted, filters: decision.filters };
}
