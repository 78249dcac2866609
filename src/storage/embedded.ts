import { connect } from 'node:net';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { serveSharedSession, type SharedSession } from './shared_session.ts';
import { makePrivate } from './private_directory.ts';

/**
 * PGlite admits one process per data directory. The process that opens it (the server, or
 * the CLI when no server runs) serves it on a Unix socket inside the directory; every other
 * process, and the owner's own knex pool, speaks the Postgres protocol to that socket. One
 * code path (the pg driver) for embedded and real Postgres, and the CLI works while the
 * server runs. PGlite is one Postgres session, shared by all those connections: see
 * shared_session.ts for how each of them can come and go safely.
 */
export interface EmbeddedDatabase {
  /** Connection settings for the pg driver. */
  connection: { host: string; port: number; user: string; database: string };
  /** True when this process opened PGlite (and must close it). */
  owner: boolean;
  close(): Promise<void>;
}

// pg finds a Unix socket as `${host}/.s.PGSQL.${port}`.
const SOCKET_PORT = 5432;

export async function openEmbeddedDatabase(dataDir: string): Promise<EmbeddedDatabase> {
  // Private when it is created here: the socket inside it asks no password.
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const socketPath = join(dataDir, `.s.PGSQL.${SOCKET_PORT}`);
  const connection = { host: dataDir, port: SOCKET_PORT, user: 'postgres', database: 'postgres' };
  if (await isServed(socketPath)) {
    return { connection, owner: false, close: async () => {} };
  }
  // Nobody answers: any socket file left is from a process that died.
  await rm(socketPath, { force: true });
  const db = await PGlite.create(join(dataDir, 'pglite'));
  // After the create: a first start unpacks the cluster with files anyone may read. A file made
  // later with a looser mode is still out of others' reach: the directory itself is 0700.
  await makePrivate(dataDir);
  let server: SharedSession;
  try {
    server = await serveSharedSession(db, socketPath);
  } catch (error) {
    await db.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE' && (await isServed(socketPath))) {
      // Another process won the race to open the directory: use its socket.
      return { connection, owner: false, close: async () => {} };
    }
    throw error;
  }
  return {
    connection,
    owner: true,
    close: async () => {
      await server.close();
      await db.close();
      await rm(socketPath, { force: true });
    },
  };
}

function isServed(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
