import { CLIENT_FIELDS, ClientSpecError, type ClientField } from './client_fields.ts';
import { clientMetadata, clientSpec, type ClientMetadata } from './client_kinds.ts';
import type { ScopeEntry } from './scope_catalogue.ts';
import { checkAllowance, type RegistrationAllowance } from './registration_allowance.ts';

/** An RFC 7591 §3.2.2 error: which code, and a description naming the field. */
export interface RegistrationError {
  error: 'invalid_client_metadata' | 'invalid_redirect_uri';
  error_description: string;
}

/** A metadata field Gatehouse does not let a registration choose, or one of the wrong type. */
export class MetadataError extends Error {
  override name = 'MetadataError';
}

type Body = Record<string, unknown>;

/**
 * The client a registration (RFC 7591) or an update (RFC 7592, which replaces every field) asks
 * for, checked by the same rules as `gatehouse clients create` and then held to the initial access
 * token's allowance. Throws ClientSpecError or MetadataError; registrationError says which code.
 */
export function registeredMetadata(body: unknown, allowance: RegistrationAllowance, catalogue: ReadonlyMap<string, ScopeEntry>, current?: ClientMetadata): ClientMetadata {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new MetadataError('the request body must be a JSON object of client metadata');
  const fields = body as Body;
  const kind = optional(fields, 'kind', 'string') ?? onlyKind(allowance);
  const metadata = clientMetadata(clientSpec({
    name: optional(fields, 'name', 'string') ?? '',
    kind,
    redirectUris: stringList(fields, 'redirectUris') ?? [],
    postLogoutRedirectUris: stringList(fields, 'postLogoutRedirectUris') ?? [],
    scopes: requestedScopes(fields),
    consent: optional(fields, 'consent', 'string') ?? 'prompt',
    restricted: optional(fields, 'restricted', 'boolean') ?? false,
    accessTokenFormat: optional(fields, 'accessTokenFormat', 'string'),
    organizations: organizations(fields),
    logoUri: optional(fields, 'logoUri', 'string'),
    policyUri: optional(fields, 'policyUri', 'string'),
    tosUri: optional(fields, 'tosUri', 'string'),
    backchannelLogoutUri: optional(fields, 'backchannelLogoutUri', 'string'),
  }), catalogue);
  checkProtocolFields(fields, metadata);
  checkAllowance(metadata, allowance);
  checkOperatorFields(metadata, current);
  return metadata;
}

/**
 * What a registrant can never set: an operator's change to these (a back-channel logout URI, a new
 * secret) leaves the client's self-management alone, where a change to anything else ends it.
 */
export const OPERATOR_ONLY_FIELDS: ReadonlySet<string> = new Set(['backchannel_logout_uri', 'backchannel_logout_session_required', 'client_secret']);

/**
 * Gatehouse posts logout tokens to a back-channel logout URI without oidc-provider's guard against
 * loopback and private addresses (src/provider/backchannel_logout.ts: applications sit on the
 * institution's network), so only an operator sets one. An update may repeat the client's own.
 */
function checkOperatorFields(metadata: ClientMetadata, current: ClientMetadata | undefined): void {
  const uri = metadata.backchannel_logout_uri;
  if (uri !== undefined && uri !== current?.backchannel_logout_uri) {
    throw new ClientSpecError('backchannelLogoutUri', (field) => `${field} is set by an operator only (gatehouse clients update --backchannel-logout-uri): Gatehouse posts to it from inside the network`);
  }
}

/** The RFC 7591 error for what registeredMetadata threw, or undefined for any other error. */
export function registrationError(error: unknown): RegistrationError | undefined {
  if (error instanceof ClientSpecError) {
    return { error: error.field === 'redirectUris' ? 'invalid_redirect_uri' : 'invalid_client_metadata', error_description: error.describeFor('metadata') };
  }
  if (error instanceof MetadataError) return { error: 'invalid_client_metadata', error_description: error.message };
  return undefined;
}

/**
 * The client as RFC 7591 §3.2.1 answers it: its metadata, with `scope` meaning what RFC 7591
 * means (every scope it may ask for), never the stored secret's digest.
 */
export function registeredView(client: ClientMetadata & { client_id: string; client_secret?: string }): Record<string, unknown> {
  const { client_secret: _digest, scope: _oidcPart, ...metadata } = client;
  return { ...metadata, scope: client.allowed_scopes };
}

/** A registration may leave kind out when its token allows exactly one. */
function onlyKind(allowance: RegistrationAllowance): string | undefined {
  if (allowance.kinds.length === 1) return allowance.kinds[0];
  throw new ClientSpecError('kind', (field) => `${field} is required: this initial access token allows ${allowance.kinds.join(', ')}`);
}

function optional<T extends 'string' | 'boolean'>(fields: Body, field: ClientField, type: T): (T extends 'string' ? string : boolean) | undefined {
  const value = fields[CLIENT_FIELDS[field].metadata];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== type) throw new ClientSpecError(field, (name) => `${name} must be a ${type}`);
  return value as T extends 'string' ? string : boolean;
}

function stringList(fields: Body, field: ClientField): string[] | undefined {
  const value = fields[CLIENT_FIELDS[field].metadata];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw new ClientSpecError(field, (name) => `${name} must be an array of strings`);
  return value;
}

/** RFC 7591's `scope`, or Gatehouse's own name for it, `allowed_scopes`; both must agree. */
function requestedScopes(fields: Body): string[] | undefined {
  const scope = optional(fields, 'scopes', 'string');
  const allowed = fields.allowed_scopes;
  if (allowed === undefined || allowed === null) return scope?.split(' ').filter(Boolean);
  if (typeof allowed !== 'string') throw new MetadataError('allowed_scopes must be a string');
  if (scope !== undefined && allowed !== scope) throw new MetadataError('allowed_scopes must equal scope: they name the same list (send one)');
  return allowed.split(' ').filter(Boolean);
}

function organizations(fields: Body): Record<string, string> {
  const value = fields.organizations;
  if (value === undefined || value === null) return {};
  const valid = typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((org) => typeof org === 'string' && org !== '');
  if (!valid) throw new ClientSpecError('organizations', (name) => `${name} must be an object of filter to organization, e.g. {"course_org": "MITx"}`);
  return value as Record<string, string>;
}

/**
 * The RFC 7591 fields a kind decides. A registration may repeat them, or name fewer grant and
 * response types, but never ask for what its kind does not do: refused rather than ignored, so
 * the client learns at once that it will not get it.
 */
function checkProtocolFields(fields: Body, metadata: ClientMetadata): void {
  const method = fields.token_endpoint_auth_method;
  // A secret is taken in the Authorization header or the form alike (oidc-provider), so
  // client_secret_post, openid-client's default, names a client Gatehouse serves; the answer
  // says client_secret_basic, as RFC 7591 §3.2.1 lets a server substitute a value.
  const sameSecret = method === 'client_secret_post' && metadata.token_endpoint_auth_method === 'client_secret_basic';
  if (method !== undefined && method !== metadata.token_endpoint_auth_method && !sameSecret) {
    throw new MetadataError(`token_endpoint_auth_method: a ${metadata.kind} client authenticates with ${metadata.token_endpoint_auth_method} (got ${shown(method)})`);
  }
  for (const [name, allowed] of [['grant_types', metadata.grant_types], ['response_types', metadata.response_types]] as const) {
    const value = fields[name];
    if (value === undefined) continue;
    const extra = Array.isArray(value) ? value.filter((item) => !allowed.includes(item as string)) : [value];
    if (extra.length) throw new MetadataError(`${name}: a ${metadata.kind} client has ${allowed.join(', ') || 'none'} (got ${extra.map(shown).join(', ')})`);
  }
  if (fields.application_type !== undefined && fields.application_type !== 'web') {
    throw new MetadataError(`application_type: only web is supported (got ${shown(fields.application_type)})`);
  }
}

/**
 * A value the request sent, as a message quotes it: a string as it is, anything else by its type.
 * String() of an array nested 30,000 deep (well within the body's 64 KiB) overflows the stack.
 */
function shown(value: unknown): string {
  if (typeof value === 'string') return value;
  return Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
}
