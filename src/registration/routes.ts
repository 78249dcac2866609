import Router from '@koa/router';
import type { Context } from 'koa';
import type { Knex } from 'knex';
import { needsSecret } from '../policy/client_kinds.ts';
import { MetadataError, registeredMetadata, registeredView, registrationError } from '../policy/registration_metadata.ts';
import type { RegistrationAllowance } from '../policy/registration_allowance.ts';
import { ClientStore, type StoredClient } from '../storage/clients.ts';
import { loadScopeCatalogue } from '../storage/enterprise_scopes.ts';
import { recordAudit, type AuditEventName } from '../storage/audit_log.ts';
import {
  deleteClientRegistration, newBearerToken, registrationFor, saveClientRegistration, useRegistrationToken, type RegistrationToken,
} from '../storage/registration_tokens.ts';
import { hashClientSecret, newClientSecret } from '../provider/client_secret.ts';
import { newClientId } from '../admin/client_id.ts';
import { bearerToken, readJson, refuseToken } from './request.ts';

/**
 * How long a registration access token works. Each update (PUT) answers with a new one, so a
 * client that manages itself keeps access; one that never does loses it, and an operator's
 * `gatehouse clients update` still reaches it.
 */
const ACCESS_TOKEN_TTL_MS = 30 * 24 * 3600 * 1000;

export interface RegistrationDeps {
  db: Knex;
  issuer: string;
  loginScope: string;
}

/** An answer decided inside the transaction; a refusal rolls it back. */
class Refusal extends Error {
  readonly respond: (ctx: Context) => void;

  constructor(respond: (ctx: Context) => void) {
    super('refused');
    this.respond = respond;
  }
}

/**
 * RFC 7591 registration at /reg behind an initial access token, and RFC 7592 management at
 * /reg/CLIENT_ID behind the client's registration access token. Clients are checked by the same
 * rules as the CLI's (src/policy/client_kinds.ts) and written through the same ClientStore, so
 * every instance's client cache hears of them (NOTIFY); each request is one transaction with its
 * audit record.
 */
export function registrationRoutes(deps: RegistrationDeps): Router {
  const router = new Router();
  const uriOf = (clientId: string) => `${deps.issuer}/reg/${clientId}`;

  router.post('/reg', (ctx) => answer(ctx, deps.db, async (trx, body) => {
    const presented = bearerToken(ctx);
    const token = presented === undefined ? undefined : await useRegistrationToken(trx, presented);
    if (!token) throw new Refusal((c) => refuseToken(c, presented !== undefined, 'send a live initial access token as Authorization: Bearer TOKEN (it may be unknown, expired or used up)'));
    const client: StoredClient = { client_id: newClientId(), ...(await checked(trx, deps, await body(), token.allowance)) };
    const secret = needsSecret(client.kind) ? newClientSecret() : undefined;
    if (secret) client.client_secret = secret.stored;
    const access = await saved(trx, client, token, 'client.registered');
    ctx.status = 201;
    return {
      client_id: client.client_id,
      ...(secret ? { client_secret: secret.secret, client_secret_expires_at: 0 } : {}),
      client_id_issued_at: Math.floor(Date.now() / 1000),
      registration_access_token: access,
      registration_client_uri: uriOf(client.client_id),
      ...registeredView(client),
    };
  }));

  router.get('/reg/:clientId', (ctx) => answer(ctx, deps.db, async (trx) => {
    const { current } = await managed(trx, ctx);
    return { ...registeredView(current), registration_client_uri: uriOf(current.client_id) };
  }));

  // RFC 7592 §2.2: the request carries every field, and what it leaves out is reset to its default.
  router.put('/reg/:clientId', (ctx) => answer(ctx, deps.db, async (trx, body) => {
    const { token, current } = await managed(trx, ctx);
    const fields = await body();
    checkIdentity(fields, current);
    const client: StoredClient = { client_id: current.client_id, ...(await checked(trx, deps, fields, token.allowance, current)) };
    if (client.kind !== current.kind) throw new MetadataError(`kind cannot change (it is ${current.kind}): register a new client instead`);
    if (current.client_secret) client.client_secret = current.client_secret;
    const access = await saved(trx, client, token, 'client.updated');
    return { ...registeredView(client), registration_access_token: access, registration_client_uri: uriOf(client.client_id) };
  }));

  router.delete('/reg/:clientId', (ctx) => answer(ctx, deps.db, async (trx) => {
    const { token, current } = await managed(trx, ctx);
    await new ClientStore(trx).delete(current.client_id);
    await deleteClientRegistration(trx, current.client_id);
    await recordAudit(trx, { event: 'client.deleted', actor: actorOf(token), clientId: current.client_id, detail: { kind: current.kind, client_name: current.client_name } });
    ctx.status = 204;
    return undefined;
  }));

  return router;
}

/**
 * Runs a request in one transaction: a refusal or a metadata error rolls back whatever it had
 * written (an initial access token's use included) and becomes the RFC's answer. A body is read
 * before the transaction (a slow upload holds no connection), but an unreadable one is only
 * reported when the handler asks for it, after the token has been checked.
 */
async function answer(ctx: Context, db: Knex, handle: (trx: Knex.Transaction, body: () => Promise<unknown>) => Promise<unknown>): Promise<void> {
  ctx.set('Cache-Control', 'no-store');
  const read = ctx.method === 'GET' || ctx.method === 'DELETE' ? undefined : await readJson(ctx).then((value) => ({ value }), (error: unknown) => ({ error }));
  const body = async () => {
    if (read && 'error' in read) throw read.error;
    return read?.value;
  };
  try {
    const result = await db.transaction((trx) => handle(trx, body));
    if (result !== undefined) ctx.body = result;
  } catch (error) {
    if (error instanceof Refusal) return error.respond(ctx);
    const refused = registrationError(error);
    if (!refused) throw error;
    ctx.status = 400;
    ctx.body = refused;
  }
}

async function checked(trx: Knex.Transaction, deps: RegistrationDeps, body: unknown, allowance: RegistrationAllowance, current?: StoredClient) {
  return registeredMetadata(body, allowance, await loadScopeCatalogue(trx, deps.loginScope), current);
}

/** The client named in the path and the allowance it was registered under, if the request holds its registration access token. */
async function managed(trx: Knex.Transaction, ctx: Context): Promise<{ token: RegistrationToken; current: StoredClient }> {
  const clientId = (ctx.params as { clientId: string }).clientId;
  const presented = bearerToken(ctx);
  const token = presented === undefined ? undefined : await registrationFor(trx, clientId, presented);
  const current = token && (await new ClientStore(trx).find(clientId));
  if (!token || !current) throw new Refusal((c) => refuseToken(c, presented !== undefined, 'send this client\'s registration access token as Authorization: Bearer TOKEN'));
  return { token, current };
}

/** RFC 7592 §2.2: an update names its client, and a secret it sends must be the client's. */
function checkIdentity(fields: unknown, current: StoredClient): void {
  const { client_id: clientId, client_secret: secret } = (fields ?? {}) as { client_id?: unknown; client_secret?: unknown };
  if (clientId !== current.client_id) throw new MetadataError(`client_id must be this client's id, ${current.client_id}`);
  if (secret !== undefined && (typeof secret !== 'string' || hashClientSecret(secret) !== current.client_secret)) {
    throw new MetadataError('client_secret is not this client\'s secret (leave it out: an update keeps the secret)');
  }
}

/** Stores the client with a fresh registration access token and its audit record; returns the token. */
async function saved(trx: Knex.Transaction, client: StoredClient, token: RegistrationToken, event: AuditEventName): Promise<string> {
  await new ClientStore(trx).save(client);
  const access = newBearerToken();
  await saveClientRegistration(trx, client.client_id, token.id, access.digest, new Date(Date.now() + ACCESS_TOKEN_TTL_MS));
  await recordAudit(trx, { event, actor: actorOf(token), clientId: client.client_id, detail: { kind: client.kind, client_name: client.client_name, scopes: client.allowed_scopes } });
  return access.value;
}

function actorOf(token: RegistrationToken): string {
  return `registration_token:${token.id}`;
}
