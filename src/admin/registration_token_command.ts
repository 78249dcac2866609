import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import type { Config } from '../config.ts';
import { CLIENT_KINDS, ClientSpecError, defaultScopes, organizationsOf, unusableScopes, type ClientKind } from '../policy/client_kinds.ts';
import { oneOf } from '../policy/client_fields.ts';
import { AUTH_NONE } from '../policy/scope_policy.ts';
import type { RegistrationAllowance } from '../policy/registration_allowance.ts';
import { loadScopeCatalogue } from '../storage/enterprise_scopes.ts';
import { insertRegistrationToken, newBearerToken, revokeRegistrationToken } from '../storage/registration_tokens.ts';
import { recordAudit } from '../storage/audit_log.ts';
import { operatorActor } from './operator.ts';
import { parseOrganizations } from './client_commands.ts';
import { UsageError, type CommandResult } from './output.ts';
import { durationSeconds } from './durations.ts';

export const REGISTRATION_TOKEN_USAGE = `registration-token create --kind K [--kind K]... [--scopes "a b"] [--restricted]
          [--consent-skip] [--org user_org=X]... [--expires 24h] [--uses 1]
                                            an initial access token for POST /reg, shown once
  registration-token revoke ID              it registers no more clients (those it registered stay)`;

const OPTIONS = {
  kind: { type: 'string', multiple: true },
  scopes: { type: 'string' },
  restricted: { type: 'boolean' },
  'consent-skip': { type: 'boolean' },
  org: { type: 'string', multiple: true },
  expires: { type: 'string' },
  uses: { type: 'string' },
} as const;

// Long enough to hand a token to a team and let them get round to it; a forgotten one dies.
const DEFAULT_EXPIRY_SECONDS = 86400;
const MAX_EXPIRY_SECONDS = 30 * 86400;

/**
 * `gatehouse registration-token create`: what a registration with the token may ask for is given
 * here and nothing more (src/policy/registration_allowance.ts). Flags are checked before the
 * database is opened; the scopes against the catalogue once it is.
 */
export function registrationTokenCommand(args: string[]): (context: { db: Knex; config: Config }) => Promise<CommandResult> {
  const { values } = parseArgs({ args, options: OPTIONS, strict: true });
  if (!values.kind?.length) throw new UsageError(`registration-token create needs --kind (${CLIENT_KINDS.join('|')}), once per kind it allows`);
  const { kinds, organizations } = asUsage(() => ({
    kinds: [...new Set(values.kind!.map((kind) => oneOf('kind', kind, CLIENT_KINDS)))],
    organizations: organizationsOf(parseOrganizations(values.org ?? [])),
  }));
  const expiresIn = values.expires === undefined ? DEFAULT_EXPIRY_SECONDS : duration(values.expires);
  const uses = values.uses === undefined ? 1 : count(values.uses);
  const scopes = values.scopes === undefined ? undefined : [...new Set(values.scopes.split(/\s+/).filter(Boolean))];
  return async ({ db, config }) => {
    const catalogue = await loadScopeCatalogue(db, config.loginScope);
    const allowance: RegistrationAllowance = {
      kinds,
      scopes: scopes ?? kindsDefaultScopes(kinds),
      restricted: values.restricted ?? false,
      consentSkip: values['consent-skip'] ?? false,
      organizations,
    };
    for (const scope of allowance.scopes) {
      if (!catalogue.has(scope)) throw new UsageError(`--scopes: unknown scope ${JSON.stringify(scope)}: see the scope catalogue in the README`);
      if (kinds.every((kind) => unusableScopes(kind, [scope], catalogue).length)) throw new UsageError(`--scopes: no ${kinds.join(' or ')} client can ever be granted ${scope}`);
    }
    const token = { id: randomBytes(8).toString('hex'), ...newBearerToken() };
    const expiresAt = new Date(Date.now() + expiresIn * 1000);
    await db.transaction(async (trx) => {
      await insertRegistrationToken(trx, { id: token.id, digest: token.digest, allowance, uses, expiresAt, createdBy: operatorActor() });
      await recordAudit(trx, {
        event: 'registration_token.created',
        actor: operatorActor(),
        detail: { token_id: token.id, kinds, scopes: allowance.scopes, restricted: allowance.restricted, consent_skip: allowance.consentSkip, uses, expires_at: expiresAt.toISOString() },
      });
    });
    const shown = { initial_access_token: token.value, expires_at: expiresAt.toISOString(), id: token.id, uses, ...allowance };
    return {
      json: shown,
      text: [
        `initial access token: ${token.value}`,
        `expires at: ${shown.expires_at}; registers ${uses} client${uses === 1 ? '' : 's'}`,
        `kinds: ${kinds.join(', ')}; scopes: ${allowance.scopes.join(' ') || '(none)'}`,
        '',
        'The token is shown only now. Send it as Authorization: Bearer TOKEN to POST /reg.',
      ].join('\n'),
    };
  };
}

/**
 * `gatehouse registration-token revoke ID`: for a token that leaked or is no longer needed. The
 * clients it registered keep their registration access tokens: `clients delete` ends those.
 */
export function registrationTokenRevokeCommand(args: string[]): (context: { db: Knex }) => Promise<CommandResult> {
  const { positionals } = parseArgs({ args, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw new UsageError('usage: gatehouse registration-token revoke ID (the id registration-token create printed)');
  const id = positionals[0]!;
  return ({ db }) => db.transaction(async (trx) => {
    const usesLeft = await revokeRegistrationToken(trx, id);
    if (usesLeft === undefined) throw new UsageError(`no registration token ${id}`);
    await recordAudit(trx, { event: 'registration_token.revoked', actor: operatorActor(), detail: { token_id: id, uses_left: usesLeft } });
    return { json: { id, revoked: true, uses_left: usesLeft }, text: `revoked registration token ${id} (it had ${usesLeft} use${usesLeft === 1 ? '' : 's'} left)` };
  });
}

/** Without --scopes: the kinds' own default scopes, but never auth-none, which must be named. */
function kindsDefaultScopes(kinds: ClientKind[]): string[] {
  return [...new Set(kinds.flatMap((kind) => defaultScopes(kind)))].filter((scope) => scope !== AUTH_NONE);
}

/** A client rule's refusal, in the flags' words. */
function asUsage<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof ClientSpecError) throw new UsageError(error.describeFor('flag'));
    throw error;
  }
}

function duration(value: string): number {
  const seconds = durationSeconds(value) ?? 0;
  if (seconds < 60 || seconds > MAX_EXPIRY_SECONDS) throw new UsageError(`--expires takes a duration from 1m to 30d, such as 30m, 24h or 7d (got ${value})`);
  return seconds;
}

function count(value: string): number {
  if (!/^[1-9]\d{0,5}$/.test(value)) throw new UsageError(`--uses takes how many clients the token may register, from 1 to 999999 (got ${value})`);
  return Number(value);
}
