import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listeningPort, startProcess, type ServerProcess } from '../support/server_process.ts';

/** True while some process of the command's process group is still alive. */
function groupAlive(run: ServerProcess): boolean {
  try {
    process.kill(-run.child.pid!, 0);
    return true;
  } catch {
    return false;
  }
}

// No drain delay: nothing stands in front of these servers (test/integration/rolling_restart.test.ts has the delay).
const serverEnv = (dataDir: string) => ({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', ISSUER: 'https://login.example.test', SHUTDOWN_DRAIN_SECONDS: '0' });

test('a bad environment variable stops start-up with one line naming it', async () => {
  const run = startProcess({ PORT: 'eighty' });
  const [code] = await once(run.child, 'exit');
  expect(code).toBe(1);
  expect(run.stderr()).toMatch(/^invalid configuration: PORT: [^\n]+\n$/);
});

test('on a bare data directory the provider starts on PGlite, answers discovery, warns about nothing and stops cleanly', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'gh-start-'));
  const run = startProcess(serverEnv(dataDir));
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
  const run = startProcess(serverEnv(dataDir), ['npm', 'start']);
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
