import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_REDIS_URL } from './env.ts';
import { TEST_KEY_ENCRYPTION_KEY } from './gatehouse.ts';
import { pollUntil } from './poll.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'src/main.ts');

export interface ServerProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Kills whatever the command left running (the process group), when a test failed half-way. */
  kill(): void;
}

/** Starts a command (by default the server itself, `node src/main.ts`) in its own process group, as a supervisor would. */
export function startProcess(env: Record<string, string>, command = [process.execPath, MAIN]): ServerProcess {
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

/**
 * The environment of a Gatehouse process on a test Postgres database and the test Redis, on a
 * free port of 127.0.0.1, with the janitor off (a test runs it itself); `extra` adds or overrides.
 */
export function postgresServerEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
    PORT: '0',
    HOST: '127.0.0.1',
    ISSUER: 'https://login.example.test',
    JANITOR_INTERVAL_SECONDS: '0',
    ...extra,
  };
}

/** The port from the server's "gatehouse listening" log line, once it is written. */
export async function listeningPort(run: ServerProcess): Promise<number> {
  const line = () => run.stdout().split('\n').find((entry) => entry.includes('gatehouse listening'));
  await pollUntil(async () => line() !== undefined || run.child.exitCode !== null, Boolean, 30_000, 100);
  const started = JSON.parse(line() ?? 'null') as { port: number; database: string } | null;
  if (!started) throw new Error(`the server did not start:\n${run.stdout()}${run.stderr()}`);
  return started.port;
}
