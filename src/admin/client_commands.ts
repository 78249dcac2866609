import { isDeepStrictEqual } from 'node:util';
import type { Knex } from 'knex';
import type { ScopeEntry } from '../policy/scope_catalogue.ts';
import { CLIENT_KINDS, ClientSpecError, clientMetadata, clientSpec, needsSecret, type ClientInput } from '../policy/client_kinds.ts';
import { ClientStore, type StoredClient } from '../storage/clients.ts';
import { deleteClientRegistration } from '../storage/registration_tokens.ts';
import { OPERATOR_ONLY_FIELDS } from '../policy/registration_metadata.ts';
import { newClientSecret } from '../provider/client_secret.ts';
import { UsageError, type CommandResult } from './output.ts';
import { newClientId } from './client_id.ts';
import { auditOperator } from './operator.ts';

/** The flags of `clients create` and `clients update`, as parsed from the command line. */
export interface ClientFlags {
  name?: string | undefined;
  kind?: string | undefined;
  'redirect-uri'?: string[] | undefined;
  'post-logout-redirect-uri'?: string[] | undefined;
  scopes?: string | undefined;
  consent?: string | undefined;
  restricted?: boolean | undefined;
  'access-token-format'?: string | undefined;
  org?: string[] | undefined;
  'new-secret'?: boolean | undefined;
  'logo-uri'?: string | undefined;
  'policy-uri'?: string | undefined;
  'tos-uri'?: string | undefined;
  'backchannel-logout-uri'?: string | undefined;
}

export const CLIENT_FLAG_OPTIONS = {
  name: { type: 'string' },
  kind: { type: 'string' },
  'redirect-uri': { type: 'string', multiple: true },
  'post-logout-redirect-uri': { type: 'string', multiple: true },
  scopes: { type: 'string' },
  consent: { type: 'string' },
  restricted: { type: 'boolean' },
  'access-token-format': { type: 'string' },
  org: { type: 'string', multiple: true },
  'new-secret': { type: 'boolean' },
  'logo-uri': { type: 'string' },
  'policy-uri': { type: 'string' },
  'tos-uri': { type: 'string' },
  'backchannel-logout-uri': { type: 'string' },
} as const;

export type Catalogue = ReadonlyMap<string, ScopeEntry>;

/** The flags `clients create` cannot do without (and one it cannot take), checked before anything is opened. */
export function requireClientFlags(flags: ClientFlags): void {
  if (!flags.name) throw new UsageError('clients create needs --name');
  if (!flags.kind) throw new UsageError(`clients create needs --kind (${CLIENT_KINDS.join('|')})`);
  if (flags['new-secret']) throw new UsageError('--new-secret is for clients update: clients create makes the secret of a client that needs one');
}

/** `clients update` changes what its flags name: without one there is nothing to do. */
export function requireClientChange(flags: ClientFlags): void {
  if (Object.values(flags).every((value) => value === undefined)) {
    throw new UsageError('clients update needs at least one flag to change (those of clients create, or --new-secret)');
  }
}

/** One --org filter given twice, refused rather than one silently winning (clientSpec refuses the other contradictions). */
function refuseConflicts(flags: ClientFlags): void {
  const filters = (flags.org ?? []).map((value) => value.split('=', 1)[0]);
  const twice = filters.find((filter, index) => filters.indexOf(filter) !== index);
  if (twice) throw new UsageError(`--org ${twice}=… is given twice: a client has one ${twice}`);
}

/** Validates the flags against the catalogue at once; the returned function stores the client. */
export function createClient(catalogue: Catalogue, flags: ClientFlags): (db: Knex) => Promise<CommandResult> {
  requireClientFlags(flags);
  refuseConflicts(flags);
  const client: StoredClient = { client_id: newClientId(), ...metadataOf(flags, undefined, catalogue) };
  const secret = needsSecret(client.kind) ? newClientSecret() : undefined;
  if (secret) client.client_secret = secret.stored;
  return (db) => db.transaction(async (trx) => {
    await new ClientStore(trx).save(client);
    await auditOperator(trx, { event: 'client.created', clientId: client.client_id, detail: { kind: client.kind, client_name: client.client_name, fields: changedFields(undefined, client) } });
    return shown(client, secret?.secret);
  });
}

/** Reads, checks and writes in one transaction with its audit record: a failure leaves the client as it was. */
export function updateClient(db: Knex, catalogue: Catalogue, clientId: string, flags: ClientFlags): Promise<CommandResult> {
  return db.transaction(async (trx) => {
    const store = new ClientStore(trx);
    const current = await mustFind(store, clientId);
    refuseConflicts(flags);
    const client: StoredClient = { client_id: clientId, ...metadataOf(flags, current, catalogue) };
    let secret: string | undefined;
    if (needsSecret(client.kind)) {
      // A secret survives an update unless asked for a new one, or the client had none before.
      const fresh = flags['new-secret'] || !current.client_secret ? newClientSecret() : undefined;
      client.client_secret = fresh?.stored ?? current.client_secret;
      secret = fresh?.secret;
    } else if (flags['new-secret']) {
      throw new UsageError(`--new-secret: a ${client.kind} client has no secret`);
    }
    const fields = changedFields(current, client);
    // Asked to be what it already is: nothing to write, nothing to record.
    if (fields.length) {
      await store.save(client);
      // An operator who changes what a registrant could set now owns the client: its registrant
      // could otherwise PUT back, up to its initial access token's allowance, what was narrowed.
      const selfManagementEnded = fields.some((field) => !OPERATOR_ONLY_FIELDS.has(field)) && await deleteClientRegistration(trx, clientId);
      await auditOperator(trx, { event: 'client.updated', clientId, detail: { fields, ...(selfManagementEnded ? { self_management_ended: true } : {}) } });
    }
    return shown(client, secret);
  });
}

export async function showClient(db: Knex, clientId: string): Promise<CommandResult> {
  return shown(await mustFind(new ClientStore(db), clientId), undefined);
}

export async function listClients(db: Knex): Promise<CommandResult> {
  const clients = (await new ClientStore(db).list()).map(publicView);
  const text = clients.length
    ? clients.map((c) => `${c.client_id}  ${c.kind.padEnd(15)}  ${c.client_name}  [${c.allowed_scopes}]`).join('\n')
    : 'no clients';
  return { json: clients, text };
}

export function deleteClient(db: Knex, clientId: string): Promise<CommandResult> {
  return db.transaction(async (trx) => {
    const store = new ClientStore(trx);
    const client = await mustFind(store, clientId);
    await store.delete(clientId);
    await deleteClientRegistration(trx, clientId);
    await auditOperator(trx, { event: 'client.deleted', clientId, detail: { kind: client.kind, client_name: client.client_name } });
    return { json: { client_id: clientId, deleted: true }, text: `deleted client ${clientId}` };
  });
}

/** The names of the fields that differ: a new secret shows as client_secret, never its value or digest. */
function changedFields(before: StoredClient | undefined, after: StoredClient): string[] {
  const names = new Set([...Object.keys(before ?? {}), ...Object.keys(after)]) as Set<keyof StoredClient>;
  return [...names].filter((name) => name !== 'client_id' && !isDeepStrictEqual(before?.[name], after[name])).sort();
}

function inputFrom(flags: ClientFlags, current: StoredClient | undefined): ClientInput {
  return {
    name: flags.name ?? current?.client_name ?? '',
    kind: flags.kind ?? current?.kind,
    redirectUris: flags['redirect-uri'] ?? current?.redirect_uris ?? [],
    postLogoutRedirectUris: flags['post-logout-redirect-uri'] ?? current?.post_logout_redirect_uris ?? [],
    scopes: flags.scopes !== undefined ? flags.scopes.split(/\s+/).filter(Boolean) : current?.allowed_scopes.split(' ').filter(Boolean),
    consent: flags.consent ?? current?.consent ?? 'prompt',
    restricted: flags.restricted ?? current?.restricted ?? false,
    // A client made restricted gets JWTs whatever format it had: that one is not asked for again.
    accessTokenFormat: flags['access-token-format'] ?? (flags.restricted ? undefined : current?.access_token_format),
    organizations: flags.org ? parseOrganizations(flags.org) : (current?.organizations ?? {}),
    logoUri: flags['logo-uri'] ?? current?.logo_uri,
    // An empty value removes it.
    policyUri: (flags['policy-uri'] ?? current?.policy_uri) || undefined,
    tosUri: (flags['tos-uri'] ?? current?.tos_uri) || undefined,
    backchannelLogoutUri: (flags['backchannel-logout-uri'] ?? current?.backchannel_logout_uri) || undefined,
  };
}

function metadataOf(flags: ClientFlags, current: StoredClient | undefined, catalogue: Catalogue) {
  try {
    return clientMetadata(clientSpec(inputFrom(flags, current)), catalogue);
  } catch (error) {
    // Every message names the flag, even one written for any surface ("not an absolute URL: …").
    if (error instanceof ClientSpecError) throw new UsageError(error.describeFor('flag'));
    throw error;
  }
}

/** FILTER=ORG pairs; clientSpec checks the filter names. */
export function parseOrganizations(values: string[]): Record<string, string> {
  const organizations: Record<string, string> = {};
  for (const value of values) {
    const [filter, org] = value.split('=', 2);
    if (!filter || !org) throw new UsageError(`--org takes FILTER=ORG, e.g. course_org=MITx (got ${value})`);
    organizations[filter] = org;
  }
  return organizations;
}

async function mustFind(store: ClientStore, clientId: string): Promise<StoredClient> {
  const client = await store.find(clientId);
  if (!client) throw new UsageError(`no client ${clientId}`);
  return client;
}

/** A client as the operator sees it: never the stored secret digest. */
function publicView(client: StoredClient): Omit<StoredClient, 'client_secret'> {
  const { client_secret: _digest, ...visible } = client;
  return visible;
}

function shown(client: StoredClient, secret: string | undefined): CommandResult {
  const view = { ...publicView(client), ...(secret ? { client_secret: secret } : {}) };
  const lines = Object.entries(view).map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  if (secret) lines.push('', 'The client secret is shown only now: store it safely.');
  return { json: view, text: lines.join('\n') };
}
