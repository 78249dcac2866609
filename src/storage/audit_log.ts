import type { Knex } from 'knex';

/**
 * The audit log: what happened to whom, and who made it happen. Event names are fixed here so
 * that `gatehouse audit` output and a SIEM's queries can rely on them.
 */
export const AUDIT_EVENTS = [
  // a person at the login and consent pages
  'sign_in.succeeded', 'sign_in.failed', 'sign_in.locked_out',
  'consent.given', 'consent.refused', 'consent.revoked',
  // tokens
  'token.issued', 'token.revoked', 'token.reuse_detected',
  // operators (the CLI) and registration tokens
  'client.created', 'client.updated', 'client.deleted', 'client.registered',
  'registration_token.created', 'registration_token.revoked',
  'key.rotated', 'key.resealed',
  'scope.defined',
  'group.member_added', 'group.member_removed',
  'account.created', 'account.disabled', 'account.enabled', 'account.password_changed',
  'grants.listed', 'grants.revoked',
] as const;

export type AuditEventName = (typeof AUDIT_EVENTS)[number];

type DetailValue = string | number | boolean | null | string[];

export interface AuditEvent {
  event: AuditEventName;
  /** Who did it: `cli:<os user>`, `registration_token:<id>`, `account:<sub>`, `client:<id>`, or `anonymous`. */
  actor: string;
  /** The person it concerns, when there is one. */
  accountId?: string | undefined;
  username?: string | undefined;
  clientId?: string | undefined;
  /** The client address of the request that caused it. */
  ip?: string | undefined;
  /** What else explains it (a reason, scopes, a grant type): never a secret, password or token. */
  detail?: Record<string, DetailValue | undefined>;
  /** When it happened, if not now: a buffered event is written later than it happened. */
  at?: Date | undefined;
}

export interface AuditRecord extends Required<Omit<AuditEvent, 'detail'>> {
  id: string;
  at: Date;
  detail: Record<string, DetailValue>;
}

// A detail field whose name says it holds a credential is never written, whatever its caller
// meant: the audit log outlives tokens and is read by more people than the database is.
const CREDENTIAL_FIELD = /secret|password|passwd|token_value|^token$|access_token|refresh_token|id_token|^code$|assertion|ticket|hash|cookie/i;

function auditRow(event: AuditEvent): Record<string, unknown> {
  const detail: Record<string, DetailValue> = {};
  for (const [key, value] of Object.entries(event.detail ?? {})) {
    if (value === undefined) continue;
    detail[key] = CREDENTIAL_FIELD.test(key) ? '[withheld]' : value;
  }
  return {
    at: event.at,
    event: event.event,
    actor: event.actor,
    account_id: event.accountId,
    username: event.username,
    client_id: event.clientId,
    ip: event.ip,
    detail,
  };
}

// The rows as one JSON parameter, read back by json_to_recordset: one native JSON.stringify
// rather than a placeholder (or an escaped array element) per value. Of the three, the cheapest
// for the server's writer: about 3 µs of CPU an event from listener to row, against 4.5 with an
// unnested array a column and 6 with a multi-row VALUES. A field left out is NULL (at: now()).
const INSERT_ROWS = `INSERT INTO audit_events (at, event, actor, account_id, username, client_id, ip, detail)
  SELECT coalesce(at, now()), event, actor, account_id, username, client_id, ip, coalesce(detail, '{}')
  FROM json_to_recordset(?::json)
    AS e(at timestamptz, event text, actor text, account_id text, username text, client_id text, ip text, detail jsonb)`;

/**
 * Writes events at once, in the caller's transaction if it passes one: an operator's change
 * and its audit record commit together or not at all.
 */
export async function recordAudit(db: Knex | Knex.Transaction, ...events: AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.raw(INSERT_ROWS, [storableJson(events.map(auditRow))]);
}

// JSON.stringify writes a NUL as \u0000 and half a surrogate pair as \udXXX; Postgres refuses
// either as text, and the buffered writer would retry such a row for ever, every event after it
// waiting behind it. Strings here come from requests (usernames, addresses, client names, scopes)
// and are checked where they come in, but one check missed must cost one character, not the log:
// such characters are stored as U+FFFD. The escapes are looked for first, as the replacer is slow.
const UNSTORABLE_ESCAPE = /\\u0000|\\ud[89a-f]/;
const UNSTORABLE_CHARACTER = /\0|\p{Cs}/gu;

function storableJson(rows: Record<string, unknown>[]): string {
  const json = JSON.stringify(rows);
  if (!UNSTORABLE_ESCAPE.test(json)) return json;
  return JSON.stringify(rows, (_key, value: unknown) => (typeof value === 'string' ? value.replace(UNSTORABLE_CHARACTER, '\ufffd') : value));
}

export interface AuditQuery {
  since?: Date | undefined;
  /** Events whose username or account id (sub) is one of these. */
  users?: string[] | undefined;
  clientId?: string | undefined;
  /** The newest this many events that match. */
  limit: number;
}

/** The newest `limit` events matching the query, oldest first (as a log is read). */
export async function queryAudit(db: Knex, query: AuditQuery): Promise<AuditRecord[]> {
  const rows = await db('audit_events')
    .modify((q) => {
      if (query.since) q.where('at', '>=', query.since);
      if (query.users) q.where((w) => w.whereIn('username', query.users!).orWhereIn('account_id', query.users!));
      if (query.clientId) q.where('client_id', query.clientId);
    })
    .orderBy([{ column: 'at', order: 'desc' }, { column: 'id', order: 'desc' }])
    .limit(query.limit);
  return rows.reverse().map((row: Record<string, any>) => ({
    id: String(row.id),
    at: new Date(row.at),
    event: row.event,
    actor: row.actor,
    accountId: row.account_id,
    username: row.username,
    clientId: row.client_id,
    ip: row.ip,
    detail: typeof row.detail === 'string' ? JSON.parse(row.detail) : row.detail,
  }));
}

/** What the buffered writer needs to report a lost batch without depending on the logger. */
export interface AuditWriterLog {
  error(fields: Record<string, unknown>, message: string): void;
}

/** Rows per INSERT when the buffer is written: a backlog after an outage (up to 10,000) goes in statements of a bounded size. */
const ROWS_PER_INSERT = 1000;

/** A buffered event, and how many identical ones came after it. */
interface Buffered {
  event: AuditEvent;
  count: number;
}

/** Events alike in everything but their time: the same act, by the same actor, on the same subject, from the same address. */
function sameAs(event: AuditEvent): string {
  return JSON.stringify([event.event, event.actor, event.accountId, event.username, event.clientId, event.ip, event.detail]);
}

/**
 * The server's writer: events from requests (sign-ins, consents, tokens) are buffered and written
 * together every `flushMs` (up to ROWS_PER_INSERT an INSERT), so a token request does not wait
 * for an audit round trip. Identical events in one buffer are one row, at the first one's time,
 * with `count` in its detail: a machine client taking thousands of tokens a second, or a password
 * guesser, adds a few rows a second, not thousands. While the database is down the buffer is kept
 * and retried, up to `maxBuffered` rows; past that the oldest are dropped and their events
 * counted, and the log says so. close() writes what is left.
 */
export class AuditWriter {
  #buffer = new Map<string, Buffered>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #dropped = 0;

  readonly #db: Knex;
  readonly #log: AuditWriterLog;
  readonly #options: { flushMs: number; maxBuffered: number };

  constructor(db: Knex, log: AuditWriterLog, options = { flushMs: 200, maxBuffered: 10_000 }) {
    this.#db = db;
    this.#log = log;
    this.#options = options;
  }

  /** Events dropped because the database stayed unreachable while the buffer filled. */
  get dropped(): number {
    return this.#dropped;
  }

  record(event: AuditEvent): void {
    const key = sameAs(event);
    const earlier = this.#buffer.get(key);
    if (earlier) {
      earlier.count += 1;
      return;
    }
    // Stamped now: the row is written up to flushMs later, or much later after an outage.
    this.#buffer.set(key, { event: { at: new Date(), ...event }, count: 1 });
    this.#dropOldest();
    this.#timer ??= setTimeout(() => void this.flush(), this.#options.flushMs).unref();
  }

  /** Drops the oldest rows past maxBuffered, counting their events. */
  #dropOldest(): void {
    let excess = this.#buffer.size - this.#options.maxBuffered;
    for (const [key, { count }] of this.#buffer) {
      if (excess-- <= 0) return;
      this.#buffer.delete(key);
      this.#dropped += count;
    }
  }

  /**
   * Writes every buffered event; resolves when they are stored or have failed (and are kept).
   * Flushes run one after the other, so a caller's (close()'s) resolves only once everything
   * buffered when it was called is written, even while a timer's flush is still writing.
   */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flushing = (this.#flushing ?? Promise.resolve()).then(() => this.#writeBuffered());
    return this.#flushing;
  }

  async #writeBuffered(): Promise<void> {
    while (this.#buffer.size > 0) {
      const batch: [string, Buffered][] = [];
      for (const entry of this.#buffer) {
        if (batch.push(entry) === ROWS_PER_INSERT) break;
      }
      for (const [key] of batch) this.#buffer.delete(key);
      try {
        await recordAudit(this.#db, ...batch.map(([, { event, count }]) => (count > 1 ? { ...event, detail: { ...event.detail, count } } : event)));
      } catch (error) {
        this.#log.error({ err: error, events: batch.length }, 'audit events not written yet: kept for the next try');
        this.#keepBefore(batch);
        this.#timer ??= setTimeout(() => void this.flush(), this.#options.flushMs * 5).unref();
        return;
      }
    }
  }

  /** Puts a batch that could not be written back before what came since, adding up identical events. */
  #keepBefore(batch: [string, Buffered][]): void {
    const kept = new Map(batch);
    for (const [key, entry] of this.#buffer) {
      const earlier = kept.get(key);
      if (earlier) earlier.count += entry.count;
      else kept.set(key, entry);
    }
    this.#buffer = kept;
    this.#dropOldest();
  }

  /** Writes what is buffered; what the database would not take is counted as dropped, and said. */
  async close(): Promise<void> {
    await this.flush();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // The last failed flush said "kept for the next try": there is none after shutdown.
    const lost = [...this.#buffer.values()].reduce((sum, { count }) => sum + count, 0);
    if (lost === 0) return;
    this.#buffer.clear();
    this.#dropped += lost;
    this.#log.error({ events: lost }, 'audit events lost at shutdown: the database did not take them');
  }
}
