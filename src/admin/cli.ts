import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { listEnterpriseScopes, loadScopeCatalogue } from '../storage/enterprise_scopes.ts';
import { defineScope, listScopes } from './scope_commands.ts';
import { migrateLatest, openDatabase } from '../storage/database.ts';
import { listSigningKeys } from '../storage/signing_keys.ts';
import { keyListing } from './key_listing.ts';
import { janitorCommand } from './janitor_command.ts';
import { REGISTRATION_TOKEN_USAGE, registrationTokenCommand, registrationTokenRevokeCommand } from './registration_token_command.ts';
import { AUDIT_USAGE, auditCommand } from './audit_command.ts';
import { reencryptKeys, rotateKeys } from './key_commands.ts';
import { CLIENT_FLAG_OPTIONS, requireClientChange, requireClientFlags, createClient, deleteClient, listClients, showClient, updateClient } from './client_commands.ts';
import { UsageError, failureMessage, type CommandResult } from './output.ts';
import { ACCOUNT_FLAG_OPTIONS, addGroupMember, createAccount, listGroups, removeGroupMember } from './account_commands.ts';
import { disableAccount, enableAccount, setPassword } from './offboarding_commands.ts';
import { GRANT_FLAG_OPTIONS, listGrants, revokeGrants, type GrantFlags } from './grant_commands.ts';
import { closeRedis, openRedis, redisConfigured, type Redis } from '../storage/redis.ts';
import type { Stores } from '../storage/adapter_router.ts';

const USAGE = `usage: gatehouse <command> [--json]

  migrate                                   apply pending database migrations
  clients create --name N --kind web|spa|server|resource-server
          [--redirect-uri URL]... [--post-logout-redirect-uri URL]... [--scopes "a b"]
          [--consent prompt|skip] [--restricted] [--access-token-format opaque|jwt]
          [--org user_org=X]... [--org course_org=Y]... [--logo-uri https://...]
          [--backchannel-logout-uri URL] [--policy-uri https://...] [--tos-uri https://...]
  clients list | show ID | delete ID
  clients update ID [flags as create] [--new-secret]
  accounts create --username U --password P|--password-stdin [--email E] [--name N]
          [--given-name G] [--family-name F]
  accounts disable USER                     refuse sign-in, end its sessions, revoke its grants and tokens
  accounts enable USER                      allow sign-in again
  accounts set-password USER --password-stdin
  grants list --user U [--client C]         what a person has allowed each client
  grants revoke --user U [--client C]       revoke those grants and every token they issued
  groups add-member GROUP USERNAME | remove-member GROUP USERNAME | list
  scopes define NAME --group G --description TEXT   an enterprise scope (the login scope too)
  scopes list
  keys list | rotate [--restricted]         signing keys and their state; rotate publishes a new key that signs after KEY_ACTIVATION_DELAY_SECONDS
  keys re-encrypt --new-key-file PATH       seal the stored keys under the key-encryption key in PATH
  janitor [--batch-size N] [--limit N]      delete expired rows, N at a time (--limit: at most N per table)
  ${REGISTRATION_TOKEN_USAGE}
  ${AUDIT_USAGE}
                                            security events, newest 1000 (or N), oldest first

Configuration comes from the same environment variables as the server (see README).`;

interface CommandContext {
  db: Knex;
  config: Config;
  /** The database and, if Redis is configured, Redis (connected at the first call): where tokens and sessions live. */
  stores(): Promise<Stores>;
}

/** A command parses its arguments first (so a usage error never touches the database), then runs. */
type Command = (args: string[], config: Config) => (context: CommandContext) => Promise<CommandResult>;

const COMMANDS: Record<string, Command> = {
  migrate: (args) => {
    parseArgs({ args });
    return async ({ db }) => {
      const applied = await migrateLatest(db);
      return { json: { applied }, text: applied.length ? `applied ${applied.join(', ')}` : 'already up to date' };
    };
  },
  'clients create': (args) => {
    const flags = parseArgs({ args, options: CLIENT_FLAG_OPTIONS, strict: true }).values;
    requireClientFlags(flags);
    return async ({ db, config }) => createClient(await loadScopeCatalogue(db, config.loginScope), flags)(db);
  },
  'clients update': (args) => {
    const { values, positionals } = parseArgs({ args, options: CLIENT_FLAG_OPTIONS, strict: true, allowPositionals: true });
    const id = onlyPositional(positionals, 'clients update ID');
    requireClientChange(values);
    return async ({ db, config }) => updateClient(db, await loadScopeCatalogue(db, config.loginScope), id, values);
  },
  'scopes define': (args, config) => {
    const { values, positionals } = parseArgs({ args, options: { group: { type: 'string' }, description: { type: 'string' } }, allowPositionals: true });
    const run = defineScope(onlyPositional(positionals, 'scopes define NAME --group G --description TEXT'), values, config.loginScope);
    return ({ db }) => run(db);
  },
  'scopes list': (args) => {
    parseArgs({ args });
    return async ({ db, config }) => listScopes(config.loginScope, await listEnterpriseScopes(db));
  },
  'clients show': (args) => {
    const id = onlyPositional(parseArgs({ args, allowPositionals: true }).positionals, 'clients show ID');
    return ({ db }) => showClient(db, id);
  },
  'clients delete': (args) => {
    const id = onlyPositional(parseArgs({ args, allowPositionals: true }).positionals, 'clients delete ID');
    return ({ db }) => deleteClient(db, id);
  },
  'clients list': (args) => {
    parseArgs({ args });
    return ({ db }) => listClients(db);
  },
  'accounts create': (args) => {
    const run = createAccount(parseArgs({ args, options: ACCOUNT_FLAG_OPTIONS, strict: true }).values);
    return ({ db }) => run(db);
  },
  'accounts disable': (args) => {
    const username = onlyPositional(parseArgs({ args, allowPositionals: true }).positionals, 'accounts disable USER');
    return ({ db, stores }) => disableAccount(db, stores, username);
  },
  'accounts enable': (args) => {
    const username = onlyPositional(parseArgs({ args, allowPositionals: true }).positionals, 'accounts enable USER');
    return ({ db }) => enableAccount({ db }, username);
  },
  'accounts set-password': (args) => {
    const { values, positionals } = parseArgs({ args, options: { 'password-stdin': { type: 'boolean' } }, strict: true, allowPositionals: true });
    const run = setPassword(onlyPositional(positionals, 'accounts set-password USER --password-stdin'), values);
    return ({ db }) => run({ db });
  },
  'grants list': (args) => {
    const flags = grantFlags(args, 'grants list --user U [--client C]');
    return ({ db }) => listGrants(db, flags);
  },
  'grants revoke': (args) => {
    const flags = grantFlags(args, 'grants revoke --user U [--client C]');
    return async ({ stores }) => revokeGrants(await stores(), flags);
  },
  'groups add-member': (args) => {
    const [group, username] = positionals(args, 2, 'groups add-member GROUP USERNAME');
    return ({ db, config }) => addGroupMember(group!, username!, config.identity.kind)(db);
  },
  'groups remove-member': (args) => {
    const [group, username] = positionals(args, 2, 'groups remove-member GROUP USERNAME');
    return ({ db }) => removeGroupMember(group!, username!)(db);
  },
  'groups list': (args) => {
    parseArgs({ args });
    return ({ db }) => listGroups(db);
  },
  'keys list': (args) => {
    parseArgs({ args });
    return async ({ db }) => keyListing(await listSigningKeys(db));
  },
  'keys rotate': (args) => {
    const { values } = parseArgs({ args, options: { restricted: { type: 'boolean' } } });
    return ({ db, config }) => rotateKeys(db, config, values.restricted ? 'restricted' : 'main');
  },
  'keys re-encrypt': (args) => {
    const { values } = parseArgs({ args, options: { 'new-key-file': { type: 'string' } }, strict: true });
    if (!values['new-key-file']) throw new UsageError('usage: gatehouse keys re-encrypt --new-key-file PATH');
    const path = values['new-key-file'];
    return ({ db, config }) => reencryptKeys(db, config, path);
  },
  janitor: janitorCommand,
  'registration-token create': registrationTokenCommand,
  'registration-token revoke': registrationTokenRevokeCommand,
  audit: auditCommand,
};

function grantFlags(args: string[], usage: string): GrantFlags & { user: string } {
  const { values } = parseArgs({ args, options: GRANT_FLAG_OPTIONS, strict: true });
  if (!values.user) throw new UsageError(`usage: gatehouse ${usage}`);
  return { ...values, user: values.user };
}

function onlyPositional(values: string[], usage: string): string {
  if (values.length !== 1) throw new UsageError(`usage: gatehouse ${usage}`);
  return values[0]!;
}

function positionals(args: string[], count: number, usage: string): string[] {
  const values = parseArgs({ args, allowPositionals: true }).positionals;
  if (values.length !== count) throw new UsageError(`usage: gatehouse ${usage}`);
  return values;
}

/** Runs one CLI invocation; returns the process exit code. */
export async function runCli(argv: string[], out = process.stdout, err = process.stderr): Promise<number> {
  const json = argv.includes('--json');
  const words = argv.filter((arg) => arg !== '--json');
  const name = [`${words[0]} ${words[1]}`, words[0]].find((candidate) => candidate && candidate in COMMANDS);
  if (!name) {
    (words.length && !['-h', '--help', 'help'].includes(words[0]!) ? err : out).write(`${USAGE}\n`);
    return words.length && !['-h', '--help', 'help'].includes(words[0]!) ? 2 : 0;
  }
  const args = words.slice(name.split(' ').length);
  let database;
  let redis: Redis | undefined;
  try {
    const config = loadConfig();
    const run = COMMANDS[name]!(args, config);
    // An operator's command (a migration, the janitor on a big table) may take its time.
    database = await openDatabase(config.database, { max: 2, idleTimeoutSeconds: config.databaseIdleTimeoutSeconds, queryTimeoutMs: 0 });
    // Every command works on a fresh database: the schema is brought up to date first.
    if (name !== 'migrate') await migrateLatest(database.knex);
    const db = database.knex;
    const stores = async (): Promise<Stores> => {
      if (redisConfigured(config)) {
        redis ??= await openRedis(config).catch((error: Error) => {
          throw new Error(`cannot reach Redis (${error.message})`);
        });
      }
      return { db, redis };
    };
    const result = await run({ db, config, stores });
    out.write(json ? `${JSON.stringify(result.json, null, 2)}\n` : `${result.text}\n`);
    return 0;
  } catch (error) {
    const parsing = (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    const known = parsing || error instanceof UsageError || error instanceof ConfigError;
    // node:util's messages name the option but not what the command takes instead.
    const message = parsing
      ? `${(error as Error).message.replace(/^(Unknown option '[^']*')\..*$/s, '$1')} (gatehouse help lists what ${name} takes)`
      : (error as Error).message;
    err.write(`gatehouse: ${known ? message : `failed: ${failureMessage(error)}`}\n`);
    return known ? 2 : 1;
  } finally {
    if (redis) await closeRedis(redis);
    await database?.close();
  }
}
