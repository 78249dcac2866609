import { execFileSync, spawn, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPostgresDatabase } from '../support/databases.ts';
import { replayDockerfile, type Replay } from '../support/dockerfile.ts';
import { TEST_KEY_ENCRYPTION_KEY } from '../support/gatehouse.ts';
import { freePort } from '../support/listen.ts';
import { pollUntil } from '../support/poll.ts';

// No container engine runs here: the image's steps are replayed from the Dockerfile itself
// (test/support/dockerfile.ts), so this test follows every change to it.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// The image's user stands for any unprivileged one: as root the test runs the image's commands
// as nobody, like USER in the image; run by someone else, they are that unprivileged user.
const AS_USER: Pick<SpawnOptions, 'uid' | 'gid'> = process.getuid!() === 0
  ? { uid: Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' })) }
  : {};

// `node` on PATH is the project's Node 24, as the image's is node:24's.
const PATH = `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`;

let root: string;
let image: Replay;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gh-image-'));
  await chmod(root, 0o755);
  // npm ci reuses this machine's npm cache, so the install takes seconds and needs the registry
  // only for what the cache lacks.
  image = await replayDockerfile(ROOT, root, { PATH, HOME: process.env.HOME ?? '', npm_config_prefer_offline: 'true' });
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface Ran { code: number | null; stdout: string; stderr: string }

/** A command in the image's working directory, as the image's user, with the image's environment. */
function inImage(command: string[], env: Record<string, string>) {
  const child = spawn(command[0]!, command.slice(1), { cwd: image.appDir, env: { PATH, ...image.final.env, ...env }, ...AS_USER });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => { stdout += chunk; });
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk; });
  const done = once(child, 'close').then((): Ran => ({ code: child.exitCode, stdout, stderr }));
  return { child, done };
}

const run = (command: string[], env: Record<string, string>) => inImage(command, env).done;

/** What Docker does for HEALTHCHECK CMD: the command with /bin/sh -c, its exit code the verdict. */
const healthcheck = (env: Record<string, string>) => run(['/bin/sh', '-c', image.final.healthcheck!], env);

test('the image holds production dependencies only: no package the lockfile marks as a development one is installed', async () => {
  const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const devOnly = Object.entries(lock.packages).filter(([path, entry]) => path && entry.dev).map(([path]) => path);
  expect(devOnly).toEqual(expect.arrayContaining(['node_modules/jest', 'node_modules/typescript', 'node_modules/node']));
  expect(devOnly.filter((path) => existsSync(join(image.appDir, path)))).toEqual([]);
  expect(await readdir(join(image.appDir, 'node_modules'))).toEqual(expect.arrayContaining(['oidc-provider', 'koa', 'pg', 'argon2']));
  // Nothing of the checkout the server does not need: no tests, bench or development data.
  expect((await readdir(image.appDir)).sort()).toEqual(['bin', 'knexfile.ts', 'migrations', 'node_modules', 'package.json', 'public', 'src', 'views']);
});

test('as an unprivileged user the image serves /healthz on the embedded database, its HEALTHCHECK passes, `gatehouse migrate` runs beside it, and SIGTERM stops it with 0', async () => {
  expect(image.final.user).toBeDefined();
  expect(['root', '0']).not.toContain(image.final.user);
  expect(image.final.cmd).toEqual(['node', 'src/main.ts']);
  // The final stage's one RUN, done here by hand: a data directory the image's user owns.
  expect(image.final.runs).toEqual([`mkdir -p ${image.final.workdir}/data && chown ${image.final.user}:${image.final.user} ${image.final.workdir}/data`]);
  await mkdir(join(image.appDir, 'data'));
  if (AS_USER.uid !== undefined) await chown(join(image.appDir, 'data'), AS_USER.uid, AS_USER.gid!);

  const env = { PORT: String(await freePort()), HOST: '127.0.0.1' };
  expect((await healthcheck(env)).code).toBe(1);
  const server = inImage(image.final.cmd!, env);
  try {
    const healthy = await pollUntil(() => healthcheck(env), (check) => check.code === 0 || server.child.exitCode !== null, 30_000, 200);
    expect({ code: healthy.code, exited: server.child.exitCode }).toEqual({ code: 0, exited: null });

    const migrate = await run(['node', 'bin/gatehouse.js', 'migrate'], {});
    expect(migrate).toMatchObject({ code: 0, stdout: 'already up to date\n' });

    server.child.kill('SIGTERM');
    const stopped = await server.done;
    expect({ code: stopped.code, stderr: stopped.stderr }).toEqual({ code: 0, stderr: '' });
    expect((await healthcheck(env)).code).toBe(1);
  } finally {
    server.child.kill('SIGKILL');
  }
}, 60_000);

test('`gatehouse migrate` from the image, run once before the servers start, brings an empty Postgres up to date', async () => {
  const database = await createPostgresDatabase();
  try {
    if (database.config.kind !== 'postgres') throw new Error('expected Postgres');
    const env = { DATABASE_URL: database.config.url, KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY };
    const migrations = (await readdir(join(image.appDir, 'migrations'))).filter((name) => /^\d+_.*\.ts$/.test(name)).map((name) => name.slice(0, -'.ts'.length));
    const first = await run(['node', 'bin/gatehouse.js', 'migrate', '--json'], env);
    expect({ code: first.code, stdout: JSON.parse(first.stdout) as unknown }).toEqual({ code: 0, stdout: { applied: migrations.sort() } });
    const again = await run(['node', 'bin/gatehouse.js', 'migrate', '--json'], env);
    expect({ code: again.code, stdout: JSON.parse(again.stdout) as unknown }).toEqual({ code: 0, stdout: { applied: [] } });
  } finally {
    await database.drop();
  }
});
