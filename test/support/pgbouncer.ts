import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './listen.ts';

/** Debian's PgBouncer (`apt-get install pgbouncer`); PGBOUNCER_PATH points at another build. */
const PGBOUNCER_PATH = process.env.PGBOUNCER_PATH ?? '/usr/sbin/pgbouncer';

export interface PgBouncer {
  /** The database of `postgresUrl`, reached through PgBouncer. */
  url: string;
  close(): Promise<void>;
}

/**
 * PgBouncer in session mode with its default settings, in front of a database on loopback, as
 * docs/deploy.md suggests one may be. It refuses to run as root: as root, it runs as nobody.
 */
export async function startPgBouncer(postgresUrl: string): Promise<PgBouncer> {
  const target = new URL(postgresUrl);
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'gh-pgbouncer-'));
  await chmod(dir, 0o755);
  const server = [`host=${target.hostname}`, `port=${target.port || 5432}`, `dbname=${target.pathname.slice(1)}`, `user=${decodeURIComponent(target.username)}`,
    ...(target.password ? [`password=${decodeURIComponent(target.password)}`] : [])].join(' ');
  const ini = join(dir, 'pgbouncer.ini');
  await writeFile(ini, [
    '[databases]', `* = ${server}`,
    '[pgbouncer]', 'listen_addr = 127.0.0.1', `listen_port = ${port}`, 'unix_socket_dir =', 'auth_type = any', 'pool_mode = session',
  ].join('\n'), { mode: 0o644 });
  const child = spawn(PGBOUNCER_PATH, [...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []), ini], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnFailed = new Promise<never>((_, reject) => child.once('error', () => reject(new Error(`${PGBOUNCER_PATH} is missing: apt-get install pgbouncer`))));
  await Promise.race([accepting(port), spawnFailed]);
  const url = new URL(postgresUrl);
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.toString(),
    close: async () => {
      child.kill();
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function accepting(port: number): Promise<void> {
  for (let tries = 0; tries < 100; tries += 1) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => resolve(true)).on('error', () => resolve(false));
      socket.once('connect', () => socket.destroy());
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`PgBouncer did not listen on ${port}`);
}
