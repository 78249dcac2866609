import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { displayUsername, usernameKey } from '../identity/usernames.ts';

const TABLE = 'accounts';

/** A person as Gatehouse knows them: identity attributes as last seen, never a plain password. */
export interface Account {
  id: string;
  username: string;
  source: 'local' | 'cas';
  passwordHash: string | null;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  attributes: Record<string, string[]>;
  /** Set by `gatehouse accounts disable`: the account cannot sign in and is not found for tokens. */
  disabledAt: Date | null;
}

/** The identity attributes a login brings (local: from the CLI; CAS: from the ticket validation). */
export interface Identity {
  email?: string | undefined;
  emailVerified?: boolean | undefined;
  name?: string | undefined;
  givenName?: string | undefined;
  familyName?: string | undefined;
  attributes?: Record<string, string[]> | undefined;
}

interface Row {
  id: string;
  username: string;
  source: 'local' | 'cas';
  password_hash: string | null;
  email: string | null;
  email_verified: boolean;
  name: string | null;
  given_name: string | null;
  family_name: string | null;
  attributes: Record<string, string[]>;
  disabled_at: Date | null;
}

export class AccountExists extends Error {
  override name = 'AccountExists';
}

export class AccountStore {
  readonly #db: Knex;

  constructor(db: Knex) {
    this.#db = db;
  }

  async findById(id: string): Promise<Account | undefined> {
    return toAccount(await this.#db(TABLE).where({ id }).first());
  }

  /** The account a username names, however it is cased or encoded (see usernameKey). */
  async findByUsername(username: string): Promise<Account | undefined> {
    return toAccount(await this.#db(TABLE).where({ username_key: usernameKey(username) }).first());
  }

  async createLocal(username: string, passwordHash: string, identity: Identity): Promise<Account> {
    const inserted: Row[] = await this.#db(TABLE)
      .insert({ id: randomUUID(), ...names(username), source: 'local', password_hash: passwordHash, ...columns(identity) })
      .onConflict('username_key').ignore()
      .returning('*');
    if (!inserted[0]) throw new AccountExists(`an account named ${displayUsername(username)} exists (usernames differing only in case or Unicode form are one)`);
    return toAccount(inserted[0])!;
  }

  /**
   * Creates the account at a CAS user's first login, or refreshes its attributes at each later one.
   * CAS names the same person `alice` or `Alice` as its directory allows; both reach one account,
   * which keeps the spelling of the first login.
   */
  async recordCasLogin(username: string, identity: Identity): Promise<Account> {
    const values = { ...columns(identity), last_login_at: new Date(), updated_at: new Date() };
    const [row]: Row[] = await this.#db(TABLE)
      .insert({ id: randomUUID(), ...names(username), source: 'cas', ...values })
      .onConflict('username_key').merge(Object.keys(values))
      .returning('*');
    return toAccount(row)!;
  }

  async recordLocalLogin(id: string): Promise<void> {
    await this.#db(TABLE).where({ id }).update({ last_login_at: new Date() });
  }

  /**
   * Disables (or enables again) an account; an account already in that state is left as it is
   * (keeping its date). True when it changed.
   */
  async setDisabled(id: string, disabled: boolean): Promise<boolean> {
    const query = this.#db(TABLE).where({ id });
    if (disabled) query.whereNull('disabled_at');
    else query.whereNotNull('disabled_at');
    return (await query.update({ disabled_at: disabled ? new Date() : null, updated_at: new Date() })) > 0;
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.#db(TABLE).where({ id }).update({ password_hash: passwordHash, updated_at: new Date() });
  }
}

function names(username: string) {
  return { username: displayUsername(username), username_key: usernameKey(username) };
}

function columns(identity: Identity) {
  return {
    email: identity.email ?? null,
    email_verified: identity.emailVerified ?? false,
    name: identity.name ?? null,
    given_name: identity.givenName ?? null,
    family_name: identity.familyName ?? null,
    attributes: JSON.stringify(identity.attributes ?? {}),
  };
}

function toAccount(row: Row | undefined): Account | undefined {
  if (!row) return undefined;
  return {
    id: row.id,
    username: row.username,
    source: row.source,
    passwordHash: row.password_hash,
    email: row.email,
    emailVerified: row.email_verified,
    name: row.name,
    givenName: row.given_name,
    familyName: row.family_name,
    attributes: row.attributes,
    disabledAt: row.disabled_at,
  };
}
