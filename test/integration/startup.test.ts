import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pollUntil } from '../support/poll.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'src/main.ts');

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Kills whatever the command left running (the process group), when a test failed half-way. */
  kill(): void;
}

/** Starts a command (by default the server itself) in its own process group, as a supervisor would. */
function start(env: Record<string, string>, command = [process.execPath, MAIN]): Run {
  const child = spawn(command[0]!, command.slice(1), { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => { stdout += chunk; });
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk; });
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Nothing left in the group.
    }
  };
  return { child, stdout: () => stdout, stderr: () => stderr, kill };
}

/** The port from the server's "gatehouse listening" log line, once it is written. */
async function listeningPort(run: Run): Promise<number> {
  const line = () => run.stdout().split('\n').find((entry) => entry.includes('gatehouse listening'));
  await pollUntil(async () => line() !== undefined || run.child.exitCode !== null, Boolean, 30_000, 100);
  const started = JSON.parse(line() ?? 'null') as { port: number; database: string } | null;
  if (!started) throw new Error(`the server did not start:\n${run.stdout()}${run.stderr()}`);
  return started.port;
}

/** True while some process of the command's process group is still alive. */
function groupAlive(run: Run): boolean {
  try {
    process.kill(-run.child.pid!, 0);
    return true;
  } catch {
    return false;
  }
}

const serverEnv = (dataDir: string) => ({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', ISSUER: 'https://login.example.test' });

test('a bad environment variable stops start-up with one line naming it', async () => {
  const run = start({ PORT: 'eighty' });
  const [code] = await once(run.child, 'exit');
  expect(code).toBe(1);
  expect(run.stderr()).toMatch(/^invalid configuration: PORT: [^\n]+\n$/);
});

test('on a bare data directory the provider starts on PGlite, answers discovery, warns about nothing and stops cleanly', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'gh-start-'));
  const run = start(serverEnv(dataDir));
  try {
    const port = await listeningPort(run);
    expect(run.stdout()).toContain('"database":"embedded"');
    const discovery = await (await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`)).json() as { issuer: string };
    expect(discovery.issuer).toBe('https://login.example.test');
    run.child.kill('SIGTERM');
    const [code] = await once(run.child, 'exit');
    expect(code).toBe(0);
    // No "development-only" adapter, keys or interactions, no "you SHOULD change" defaults.
    expect(run.stderr()).toBe('');
  } finally {
    run.kill();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('`npm start` stops gracefully on SIGTERM sent to npm, as a supervisor sends it: the port closes and no node is left behind', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'gh-start-'));
  const run = start(serverEnv(dataDir), ['npm', 'start']);
  try {
    const port = await listeningPort(run);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const closed = once(run.child, 'close');
    run.child.kill('SIGTERM');
    const [code] = await once(run.child, 'exit');
    expect(code).toBe(0);
    expect(groupAlive(run)).toBe(false);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    await closed;
    expect(run.stdout()).toContain('"signal":"SIGTERM","msg":"shutting down"');
  } finally {
    run.kill();
    await rm(dataDir, { recursive: true, force: true });
  }
}, 60_000);
