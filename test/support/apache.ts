import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './listen.ts';
import { pollUntil } from './poll.ts';

/** Debian's Apache httpd (`apt-get install apache2`); APACHE_PATH points at another build. */
const APACHE_PATH = process.env.APACHE_PATH ?? '/usr/sbin/apache2';
const MODULES_DIR = process.env.APACHE_MODULES_DIR ?? '/usr/lib/apache2/modules';

/** Where the site will be served, known before Apache starts so a relying party can register its URLs. */
export interface ApacheSite {
  /** http://127.0.0.1:PORT */
  origin: string;
  /** Apache's temporary ServerRoot, for the site's own files (scripts, pages). */
  dir: string;
}

export interface RunningApache extends ApacheSite {
  close(): Promise<void>;
}

/**
 * Apache httpd in the foreground on a free port of 127.0.0.1, configured from scratch in a
 * temporary directory: the event MPM, the given modules (`auth_openidc` loads
 * mod_auth_openidc.so) and the directives `site` returns once it knows the origin.
 * Nothing of the machine's own Apache configuration is read.
 */
export async function startApache(modules: string[], site: (where: ApacheSite) => Promise<string>): Promise<RunningApache> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-apache-'));
  // Apache's children run as www-data when the test runs as root: they read the site's files.
  await chmod(dir, 0o755);
  try {
    const origin = `http://127.0.0.1:${await freePort()}`;
    const config = join(dir, 'httpd.conf');
    await writeFile(config, `${serverConfig(dir, origin, modules)}\n${await site({ origin, dir })}\n`);
    return await run(dir, origin, config);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

function serverConfig(dir: string, origin: string, modules: string[]): string {
  const asRoot = process.getuid?.() === 0;
  return [
    `ServerRoot "${dir}"`,
    'ServerName 127.0.0.1',
    `Listen ${new URL(origin).host}`,
    `PidFile "${dir}/httpd.pid"`,
    `DefaultRuntimeDir "${dir}"`,
    `Mutex file:${dir} default`,
    `ErrorLog "${dir}/error.log"`,
    'LogLevel warn',
    // Apache refuses to serve as root; www-data is Debian's web server user.
    ...(asRoot ? ['User www-data', 'Group www-data'] : []),
    `LoadModule mpm_event_module ${MODULES_DIR}/mod_mpm_event.so`,
    // One child is plenty for one browser, and keeps start and stop quick.
    'StartServers 1',
    'ServerLimit 1',
    'ThreadsPerChild 16',
    'MaxRequestWorkers 16',
    'MinSpareThreads 1',
    'MaxSpareThreads 32',
    ...modules.map((name) => `LoadModule ${name}_module ${MODULES_DIR}/mod_${name}.so`),
    `<IfModule cgid_module>\n  ScriptSock "${dir}/cgid.sock"\n</IfModule>`,
  ].join('\n');
}

async function run(dir: string, origin: string, config: string): Promise<RunningApache> {
  await access(APACHE_PATH, constants.X_OK).catch(() => {
    throw new Error(`${APACHE_PATH} is missing: apt-get install apache2 libapache2-mod-auth-openidc`);
  });
  const child = spawn(APACHE_PATH, ['-DFOREGROUND', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let running = true;
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    running = false;
    resolve();
  }));

  const up = await pollUntil(() => fetch(`${origin}/`).then(() => true, () => false), (ok) => ok || !running, 10_000);
  if (!up || !running) {
    child.kill('SIGKILL');
    await exited;
    const errorLog = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
    throw new Error(`Apache did not start on ${origin}:\n${stderr}${errorLog}`);
  }
  return {
    origin,
    dir,
    close: async () => {
      // SIGTERM stops the parent and its children at once; nothing here needs a graceful stop.
      if (running) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
