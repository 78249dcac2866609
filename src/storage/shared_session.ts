import { once } from 'node:events';
import { chmod } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import * as wire from './wire_protocol.ts';

/**
 * PGlite is a single Postgres session, and every connection to the embedded database (the
 * owner's pool, its LISTEN connection, each CLI process) speaks to that one session. This socket
 * server makes it safe for any of them to come and go at any time, whatever session state its
 * libraries keep:
 * - a connection has the session to itself from its first message until Postgres is ready for
 *   a query outside a transaction, so an extended-query exchange or a transaction is never
 *   interleaved with another connection's messages;
 * - prepared statement names are kept apart per connection, so two connections, or a connection
 *   and the one it replaced, may prepare the same name (rate-limiter-flexible names its statements);
 * - a notification goes to the connections that LISTEN on its channel, not to whichever
 *   connection's command happened to deliver it;
 * - when a connection goes (closed, recycled, cut), what it left is undone: its half-sent
 *   exchange is ended, its transaction rolled back, its statements closed, its channels
 *   unlistened unless another connection listens too, and session settings reset.
 */
export interface SharedSession {
  close(): Promise<void>;
}

export interface SharedSessionOptions {
  /**
   * How long a connection may keep the session while it sends nothing (an open transaction, an
   * exchange without its Sync) before it is dropped and its transaction rolled back: every other
   * connection waits meanwhile. Postgres's idle_in_transaction_session_timeout, for one session.
   */
  idleHoldMs?: number;
}

// Gatehouse's own transactions never pause between statements; a person at a psql prompt does.
const IDLE_HOLD_MS = 10_000;

export async function serveSharedSession(db: PGlite, socketPath: string, options: SharedSessionOptions = {}): Promise<SharedSession> {
  const session = new Session(db, options.idleHoldMs ?? IDLE_HOLD_MS);
  const server = createServer((socket) => session.admit(socket));
  server.listen(socketPath);
  // Rejects with the listen error (EADDRINUSE when another process serves the directory).
  await once(server, 'listening');
  // No password guards the socket: only this user may connect.
  await chmod(socketPath, 0o600);
  return {
    close: async () => {
      const closed = once(server, 'close');
      server.close();
      await session.closeAll();
      await closed;
    },
  };
}

class Session {
  readonly connections = new Set<Connection>();
  #holder: Connection | undefined;
  readonly #waiting: { connection: Connection; resume: () => void }[] = [];
  #nextId = 1;
  readonly db: PGlite;
  readonly idleHoldMs: number;

  constructor(db: PGlite, idleHoldMs: number) {
    this.db = db;
    this.idleHoldMs = idleHoldMs;
  }

  admit(socket: Socket): void {
    const connection = new Connection(socket, this, `c${this.#nextId++}:`);
    this.connections.add(connection);
    void connection.finished.then(() => this.connections.delete(connection));
  }

  /** Resolves once the connection has the session (at once if it has it already). */
  acquire(connection: Connection): Promise<void> {
    if (this.#holder === undefined || this.#holder === connection) {
      this.#holder = connection;
      return Promise.resolve();
    }
    return new Promise((resume) => this.#waiting.push({ connection, resume }));
  }

  release(connection: Connection): void {
    if (this.#holder !== connection) return;
    const next = this.#waiting.shift();
    this.#holder = next?.connection;
    next?.resume();
  }

  /** Runs frontend messages and returns the backend's whole answer. */
  exec(message: Buffer): Promise<Buffer> {
    return this.db.runExclusive(async () => {
      const chunks: Buffer[] = [];
      await this.db.execProtocolRawStream(message, { onRawData: (data) => chunks.push(Buffer.from(data)) });
      return Buffer.concat(chunks);
    });
  }

  async closeAll(): Promise<void> {
    const connections = [...this.connections];
    for (const connection of connections) connection.socket.destroy();
    await Promise.all(connections.map((connection) => connection.finished));
  }
}

class Connection {
  /** The names of the prepared statements this connection made, as it knows them. */
  readonly #statements = new Set<string>();
  readonly channels = new Set<string>();
  readonly finished: Promise<void>;
  readonly socket: Socket;
  readonly session: Session;
  /** Put before this connection's statement names in the session. */
  readonly prefix: string;
  readonly #frames = new wire.FrameReader();
  #holding: NodeJS.Timeout | undefined;
  #started = false;
  #closed = false;
  #draining: Promise<void> | undefined;

  constructor(socket: Socket, session: Session, prefix: string) {
    this.socket = socket;
    this.session = session;
    this.prefix = prefix;
    socket.on('data', (chunk: Buffer) => {
      this.#frames.push(chunk);
      // A malformed frame, or a message PGlite cannot run, leaves the connection in an unknown state: drop it.
      this.#draining ??= this.#drain().catch(() => void socket.destroy()).finally(() => { this.#draining = undefined; });
    });
    // An error is followed by 'close', where the connection is cleaned up (so no events.once here:
    // it would reject on the error and skip the cleanup).
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // A cleanup can only fail when PGlite itself has failed, and then every later query says so.
    this.finished = closed.then(() => this.#leave()).catch(() => {});
  }

  /** Writes a notification that another connection's command delivered. */
  notify(message: Buffer): void {
    if (!this.#closed) this.socket.write(message);
  }

  async #drain(): Promise<void> {
    for (let message = this.#frames.next(!this.#started); message && !this.#closed; message = this.#frames.next(!this.#started)) {
      await this.#handle(message);
    }
  }

  async #handle(message: Buffer): Promise<void> {
    // Busy, not idle: the timer runs only between this connection's messages.
    clearTimeout(this.#holding);
    if (!this.#started) {
      const code = wire.untypedCode(message);
      // No TLS on a Unix socket; no backend process for a cancel request to signal.
      if (code === wire.SSL_REQUEST || code === wire.GSSENC_REQUEST) return void this.socket.write('N');
      if (code === wire.CANCEL_REQUEST) return void this.socket.destroy();
      this.#started = true;
    } else if (message[0] === 0x58 /* 'X', Terminate */) {
      return void this.socket.end();
    }
    await this.session.acquire(this);
    if (this.#closed) return;
    const output = await this.session.exec(this.#track(message));
    const own: Buffer[] = [];
    let ready = false;
    for (const reply of wire.backendMessages(output)) {
      const channel = wire.notificationChannel(reply);
      if (channel !== undefined) {
        for (const other of this.session.connections) if (other !== this && other.channels.has(channel)) other.notify(reply);
        if (!this.channels.has(channel)) continue;
      }
      own.push(reply);
      ready = wire.readyStatus(reply) === 'I';
    }
    if (own.length) this.socket.write(Buffer.concat(own));
    if (ready) this.session.release(this);
    else this.#holding = setTimeout(() => this.socket.destroy(), this.session.idleHoldMs).unref();
  }

  /** Notes the statements and channels a message makes or drops; returns it with this connection's statement name. */
  #track(message: Buffer): Buffer {
    for (const { listen, channel } of wire.listenCommands(wire.sqlText(message) ?? '')) {
      if (listen) this.channels.add(channel);
      else if (channel === '*') this.channels.clear();
      else this.channels.delete(channel);
    }
    const name = wire.statementName(message);
    if (!name) return message;
    if (message[0] === 0x50 /* 'P' */) this.#statements.add(name);
    if (message[0] === 0x43 /* 'C' */) this.#statements.delete(name);
    return wire.renameStatement(message, this.prefix + name);
  }

  async #leave(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#holding);
    await this.#draining;
    await this.session.acquire(this);
    try {
      const { session } = this;
      // Ends an exchange cut off before its Sync (harmless after a complete one).
      await session.exec(wire.SYNC);
      if (session.db.isInTransaction()) await session.exec(wire.query('ROLLBACK'));
      for (const name of this.#statements) await session.exec(wire.closeStatement(this.prefix + name));
      for (const channel of this.channels) {
        const heard = [...session.connections].some((other) => other !== this && other.channels.has(channel));
        if (!heard) await session.exec(wire.query(`UNLISTEN ${wire.quoteIdentifier(channel)}`));
      }
      await session.exec(wire.query('RESET ALL'));
    } finally {
      this.session.release(this);
    }
  }
}
