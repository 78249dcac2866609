import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

function start(env: Record<string, string>): { child: ChildProcess; stdout: () => string; stderr: () => string } {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => { stdout += chunk; });
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk; });
  return { child, stdout: () => stdout, stderr: () => stderr };
}

test('a bad environment variable stops start-up with one line naming it', async () => {
  const run = start({ PORT: 'eighty' });
  const [code] = await once(run.child, 'exit');
  expect(code).toBe(1);
  expect(run.stderr()).toMatch(/^invalid configuration: PORT: [^\n]+\n$/);
});

test('on a bare data directory the provider starts on PGlite, answers discovery, warns about nothing and stops cleanly', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'gh-start-'));
  const run = start({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', ISSUER: 'https://login.example.test' });
  try {
    const deadline = Date.now() + 30_000;
    while (!run.stdout().includes('gatehouse listening') && Date.now() < deadline && run.child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const started = JSON.parse(run.stdout().split('\n').find((line) => line.includes('gatehouse listening'))!) as { port: number; database: string };
    expect(started.database).toBe('embedded');
    const discovery = await (await fetch(`http://127.0.0.1:${started.port}/.well-known/openid-configuration`)).json() as { issuer: string };
    expect(discovery.issuer).toBe('https://login.example.test');
    run.child.kill('SIGTERM');
    const [code] = await once(run.child, 'exit');
    expect(code).toBe(0);
    // No "development-only" adapter, keys or interactions, no "you SHOULD change" defaults.
    expect(run.stderr()).toBe('');
  } finally {
    run.child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
});
