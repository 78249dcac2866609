import { AUTH_NONE, OIDC_SCOPES } from './scope_policy.ts';
import type { ScopeEntry } from './scope_catalogue.ts';
import { ClientSpecError, oneOf, type ClientField } from './client_fields.ts';

export { ClientSpecError } from './client_fields.ts';

/**
 * What each kind of client is allowed to be. The CLI's `--kind` picks one; everything that
 * follows from it (grant types, authentication, redirect URIs) is decided here.
 */
export const CLIENT_KINDS = ['web', 'spa', 'server', 'resource-server'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

export const ACCESS_TOKEN_FORMATS = ['opaque', 'jwt'] as const;
export type AccessTokenFormat = (typeof ACCESS_TOKEN_FORMATS)[number];

export const CONSENT_MODES = ['prompt', 'skip'] as const;
export type ConsentMode = (typeof CONSENT_MODES)[number];

export const ORG_FILTERS = ['user_org', 'course_org'] as const;
export type OrgFilter = (typeof ORG_FILTERS)[number];
export type Organizations = Partial<Record<OrgFilter, string>>;

/** What an operator says about a client. */
export interface ClientSpec {
  name: string;
  kind: ClientKind;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  /** The scopes the client may request; undefined means the kind's default. */
  scopes?: string[] | undefined;
  consent: ConsentMode;
  restricted: boolean;
  accessTokenFormat: AccessTokenFormat;
  organizations: Organizations;
  /** Shown on the consent page; https only. */
  logoUri?: string | undefined;
  /** The application's privacy policy and terms of service, for the person deciding; https only. */
  policyUri?: string | undefined;
  tosUri?: string | undefined;
  /** Where OIDC Back-Channel Logout posts a logout token when the person's session ends here. */
  backchannelLogoutUri?: string | undefined;
}

/**
 * What a surface (the CLI's flags, a registration's metadata) says about a client, before its
 * enumerations are checked: both turn their input into this and call clientSpec.
 */
export interface ClientInput extends Omit<ClientSpec, 'kind' | 'consent' | 'accessTokenFormat' | 'organizations'> {
  kind: string | undefined;
  consent: string;
  /** Unsaid: opaque, or JWT for a restricted client. */
  accessTokenFormat: string | undefined;
  organizations: Record<string, string>;
}

/**
 * The input with its kind, consent, token format and organization filters checked. A restricted
 * client always gets JWT access tokens: asking for opaque ones as well is refused, on every
 * surface, rather than silently overruled.
 */
export function clientSpec(input: ClientInput): ClientSpec {
  if (input.restricted && input.accessTokenFormat === 'opaque') {
    throw new ClientSpecError('accessTokenFormat', (name, nameOf) => `${name} opaque conflicts with ${nameOf('restricted')}: a restricted client always gets JWT access tokens`);
  }
  return {
    ...input,
    kind: oneOf('kind', input.kind, CLIENT_KINDS),
    consent: oneOf('consent', input.consent, CONSENT_MODES),
    accessTokenFormat: oneOf('accessTokenFormat', input.accessTokenFormat ?? 'opaque', ACCESS_TOKEN_FORMATS),
    organizations: organizationsOf(input.organizations),
  };
}

/** Organization filters by name, each a known filter. */
export function organizationsOf(input: Record<string, string>): Organizations {
  const organizations: Organizations = {};
  for (const [filter, org] of Object.entries(input)) {
    organizations[oneOf('organizations', filter, ORG_FILTERS)] = org;
  }
  return organizations;
}

/** The extra client metadata Gatehouse registers with oidc-provider (beyond RFC 7591). */
export const EXTRA_CLIENT_METADATA = ['kind', 'allowed_scopes', 'consent', 'restricted', 'organizations', 'access_token_format'] as const;

/** oidc-provider client metadata, less client_id and secret. */
export interface ClientMetadata {
  client_name: string;
  kind: ClientKind;
  application_type: 'web';
  grant_types: string[];
  response_types: string[];
  token_endpoint_auth_method: 'client_secret_basic' | 'none';
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  /** Every scope the client may request, space-separated. */
  allowed_scopes: string;
  /** The OIDC part of allowed_scopes, which oidc-provider checks itself; absent when empty. */
  scope?: string;
  consent: ConsentMode;
  restricted: boolean;
  organizations: Organizations;
  access_token_format: AccessTokenFormat;
  logo_uri?: string;
  policy_uri?: string;
  tos_uri?: string;
  backchannel_logout_uri?: string;
  /** Always true with a back-channel logout URI: the logout token names the session (sid). */
  backchannel_logout_session_required?: boolean;
}

const DEFAULT_SCOPES: Record<ClientKind, string[]> = {
  web: ['openid', 'profile', 'email'],
  spa: ['openid', 'profile', 'email'],
  server: ['auth-none'],
  'resource-server': [],
};

const GRANT_TYPES: Record<ClientKind, string[]> = {
  // refresh_token is allowed, but only issued when offline_access is granted.
  web: ['authorization_code', 'refresh_token'],
  spa: ['authorization_code', 'refresh_token'],
  server: ['client_credentials'],
  // A resource server only authenticates to introspect.
  'resource-server': [],
};

const CLIENT_NAME_MAX = 100;

/** Turns an operator's spec into oidc-provider metadata, or says what is wrong with it. */
export function clientMetadata(spec: ClientSpec, catalogue: ReadonlyMap<string, ScopeEntry>): ClientMetadata {
  const userFacing = spec.kind === 'web' || spec.kind === 'spa';
  if (!spec.name.trim()) throw new ClientSpecError('name', (field) => `${field} must not be empty`);
  // A page-long name would push the consent page's own words (who asks, for what) out of view.
  if ([...spec.name.trim()].length > CLIENT_NAME_MAX) throw new ClientSpecError('name', (field) => `${field} may be at most ${CLIENT_NAME_MAX} characters`);
  // The name is shown on the consent page: a right-to-left override would turn the sentence around it.
  const hidden = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u.exec(spec.name);
  if (hidden) {
    const code = `U+${hidden[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    throw new ClientSpecError('name', (field) => `${field} must not contain control or bidirectional formatting characters (${code})`);
  }
  if (userFacing && spec.redirectUris.length === 0) {
    throw new ClientSpecError('redirectUris', (field) => `a ${spec.kind} client needs at least one ${field}`);
  }
  if (!userFacing && (spec.redirectUris.length || spec.postLogoutRedirectUris.length)) {
    throw new ClientSpecError(spec.redirectUris.length ? 'redirectUris' : 'postLogoutRedirectUris', () => `a ${spec.kind} client has no redirect URIs: it never sends a browser here`);
  }
  for (const uri of spec.redirectUris) checkRedirectUri(uri, 'redirectUris');
  for (const uri of spec.postLogoutRedirectUris) checkRedirectUri(uri, 'postLogoutRedirectUris');
  if (spec.backchannelLogoutUri !== undefined) {
    if (!userFacing) throw new ClientSpecError('backchannelLogoutUri', (field) => `a ${spec.kind} client has no sessions to log out of: it takes no ${field}`);
    checkRedirectUri(spec.backchannelLogoutUri, 'backchannelLogoutUri', 'a back-channel logout URI');
  }
  for (const field of ['logoUri', 'policyUri', 'tosUri'] as const) {
    const uri = spec[field];
    if (uri !== undefined && !/^https:\/\/[^\s]+$/.test(uri)) throw new ClientSpecError(field, (name) => `${name} must be an https URL: ${uri}`);
  }
  const scopes = spec.scopes ?? DEFAULT_SCOPES[spec.kind];
  for (const scope of scopes) {
    if (!catalogue.has(scope)) throw new ClientSpecError('scopes', () => `unknown scope ${JSON.stringify(scope)}: see the scope catalogue in the README`);
  }
  const useless = unusableScopes(spec.kind, scopes, catalogue);
  if (useless.length) {
    const why = spec.kind === 'server' ? 'it signs no one in (client credentials), and these are for a signed-in person' : 'auth-none is for client credentials only';
    throw new ClientSpecError('scopes', () => `a ${spec.kind} client can never be granted ${useless.join(' ')}: ${why}`);
  }
  const oidcScopes = [...new Set(scopes)].filter((scope) => OIDC_SCOPES.has(scope));
  return {
    client_name: spec.name.trim(),
    kind: spec.kind,
    application_type: 'web',
    grant_types: GRANT_TYPES[spec.kind],
    response_types: userFacing ? ['code'] : [],
    token_endpoint_auth_method: spec.kind === 'spa' ? 'none' : 'client_secret_basic',
    redirect_uris: spec.redirectUris,
    post_logout_redirect_uris: spec.postLogoutRedirectUris,
    allowed_scopes: [...new Set(scopes)].join(' '),
    ...(oidcScopes.length ? { scope: oidcScopes.join(' ') } : {}),
    consent: spec.consent,
    // Restricted applications only ever get JWTs signed with the restricted key.
    restricted: spec.restricted,
    organizations: spec.organizations,
    access_token_format: spec.restricted ? 'jwt' : spec.accessTokenFormat,
    ...(spec.logoUri ? { logo_uri: spec.logoUri } : {}),
    ...(spec.policyUri ? { policy_uri: spec.policyUri } : {}),
    ...(spec.tosUri ? { tos_uri: spec.tosUri } : {}),
    // With sid, an application signed in twice (two browsers) ends only the session that ended here.
    ...(spec.backchannelLogoutUri ? { backchannel_logout_uri: spec.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
  };
}

/** The scopes (all in the catalogue) that a kind of client could never be granted. */
export function unusableScopes(kind: ClientKind, scopes: readonly string[], catalogue: ReadonlyMap<string, ScopeEntry>): string[] {
  return scopes.filter((scope) => !usableBy(kind, scope, catalogue.get(scope)!));
}

/** The scopes a client of this kind gets when it names none. */
export function defaultScopes(kind: ClientKind): readonly string[] {
  return DEFAULT_SCOPES[kind];
}

/**
 * Whether a kind of client could ever be granted a scope (the policy refuses the rest at every
 * request, so allowing them only hides a mistake): a server has no person behind it, so no OIDC
 * scope and no login scope; a person's application never gets auth-none.
 */
function usableBy(kind: ClientKind, scope: string, entry: ScopeEntry): boolean {
  if (kind === 'server') return !(['oidc', 'claims', 'refresh'].includes(entry.kind) || (entry.kind === 'login-selector' && scope !== AUTH_NONE));
  if (kind === 'web' || kind === 'spa') return scope !== AUTH_NONE;
  return true;
}

/** True when the client authenticates with a secret (everything but a SPA). */
export function needsSecret(kind: ClientKind): boolean {
  return kind !== 'spa';
}

function checkRedirectUri(uri: string, field: ClientField, what = 'a redirect URI'): void {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new ClientSpecError(field, () => `not an absolute URL: ${uri}`);
  }
  if (url.hash) throw new ClientSpecError(field, () => `${what} must not have a fragment: ${uri}`);
  // https://mit.edu@evil.example/ reads as the institution's address to whoever reviews the client.
  if (url.username || url.password) throw new ClientSpecError(field, () => `${what} must not carry a user name or password: ${uri}`);
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ClientSpecError(field, () => `${what} must use https (http only for localhost): ${uri}`);
  }
}
