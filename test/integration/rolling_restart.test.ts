import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { openDatabase } from '../../src/storage/database.ts';
import { createPostgresDatabase, type TestDatabase } from '../support/databases.ts';
import { listen, type Listening } from '../support/listen.ts';
import { pollUntil } from '../support/poll.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { listeningPort, postgresServerEnv, startProcess, type ServerProcess } from '../support/server_process.ts';

/** Long enough for the balancer below (a health check every 200 ms) to notice, short enough for a test. */
const DRAIN_SECONDS = 2;
const HEALTH_CHECK_MS = 200;
const CONCURRENCY = 10;

interface Backend {
  url: string;
  ready: boolean;
  served: number;
}

/**
 * A round-robin load balancer as deployments put in front of Gatehouse: it sends requests only
 * to the instances whose /readyz last answered 200, and asks every HEALTH_CHECK_MS. It retries
 * nothing, so a request an instance drops is a failure the client sees.
 */
async function loadBalancer(): Promise<{ backends: Backend[]; url: string; close(): Promise<void> }> {
  const backends: Backend[] = [];
  let next = 0;
  const http: Listening = await listen((req, res) => {
    const ready = backends.filter((backend) => backend.ready);
    const backend = ready[next++ % Math.max(ready.length, 1)];
    if (!backend) {
      res.writeHead(503).end('no instance ready');
      return;
    }
    backend.served += 1;
    const upstream = request(`${backend.url}${req.url}`, { method: req.method, headers: req.headers }, (answer: IncomingMessage) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (error) => res.writeHead(502).end(String(error)));
    req.pipe(upstream);
  });
  const check = async (backend: Backend) => {
    backend.ready = await fetch(`${backend.url}/readyz`, { signal: AbortSignal.timeout(1000) }).then((answer) => answer.status === 200, () => false);
  };
  const timer = setInterval(() => void Promise.all(backends.map(check)), HEALTH_CHECK_MS);
  return {
    backends,
    url: http.url,
    close: async () => {
      clearInterval(timer);
      await http.close();
    },
  };
}

/** Client-credentials token requests from CONCURRENCY clients at once until stopped: how many, and every one that was not a token. */
function tokenLoad(url: string, client: RegisteredClient) {
  let running = true;
  const outcome = { sent: 0, failures: [] as string[] };
  const authorization = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
  const worker = async () => {
    while (running) {
      outcome.sent += 1;
      try {
        const answer = await fetch(`${url}/token`, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials',
        });
        const body = await answer.text();
        if (answer.status !== 200 || !(JSON.parse(body) as { access_token?: string }).access_token) outcome.failures.push(`${answer.status} ${body}`);
      } catch (error) {
        outcome.failures.push(String((error as Error).cause ?? error));
      }
    }
  };
  const workers = Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return {
    outcome,
    stop: async () => {
      running = false;
      await workers;
      return outcome;
    },
  };
}

/** The afterMs of the shutdown log line with this message. */
function shutdownStep(run: ServerProcess, message: string): number | undefined {
  const line = run.stdout().split('\n').find((entry) => entry.includes(`"msg":"${message}"`));
  return line ? (JSON.parse(line) as { afterMs: number }).afterMs : undefined;
}

let database: TestDatabase;
const running: ServerProcess[] = [];

beforeAll(async () => {
  database = await createPostgresDatabase();
});

afterAll(async () => {
  for (const run of running) run.kill();
  await database.drop();
});

async function startInstance(drainSeconds = DRAIN_SECONDS): Promise<{ run: ServerProcess; url: string }> {
  const run = startProcess(postgresServerEnv((database.config as { url: string }).url, { SHUTDOWN_DRAIN_SECONDS: String(drainSeconds) }));
  running.push(run);
  return { run, url: `http://127.0.0.1:${await listeningPort(run)}` };
}

/** A `server` client, registered as `gatehouse clients create` does (once an instance has migrated the database). */
async function serverClient(): Promise<RegisteredClient> {
  const db = await openDatabase(database.config);
  return registerClient(db.knex, { kind: 'server', name: 'load' }).finally(() => db.close());
}

test('a rolling restart of one of two instances behind a load balancer fails no token request: the stopped one drains, then exits 0', async () => {
  // One at a time: the first start migrates the fresh database.
  const first = await startInstance();
  const second = await startInstance();
  const client = await serverClient();

  const balancer = await loadBalancer();
  try {
    balancer.backends.push({ url: first.url, ready: false, served: 0 }, { url: second.url, ready: false, served: 0 });
    const [, stopping] = balancer.backends as [Backend, Backend];
    await pollUntil(async () => balancer.backends.every((backend) => backend.ready), Boolean, 5000);

    const load = tokenLoad(balancer.url, client);
    await pollUntil(async () => balancer.backends.every((backend) => backend.served >= 50), Boolean, 10_000);

    const signalled = Date.now();
    const servedBeforeSignal = stopping.served;
    const exited = once(second.run.child, 'exit');
    second.run.child.kill('SIGTERM');
    // The instance says it is draining before it stops anything, and the balancer takes it out...
    const readiness = await pollUntil(() => fetch(`${second.url}/readyz`).then(async (answer) => ({ status: answer.status, body: await answer.json() })), (answer) => answer.status === 503, 5000);
    expect(readiness).toEqual({ status: 503, body: { status: 'draining' } });
    await pollUntil(async () => stopping.ready, (ready) => !ready, 5000);
    const takenOutMs = Date.now() - signalled;
    // What the balancer sent it between the signal and its health check noticing: all answered (no failures below).
    const servedWhileDraining = stopping.served - servedBeforeSignal;

    const [code] = await exited;
    expect(code).toBe(0);
    const exitedMs = Date.now() - signalled;

    // The supervisor starts its replacement; the balancer sends it traffic once it is ready.
    const replacement = await startInstance();
    balancer.backends.push({ url: replacement.url, ready: false, served: 0 });
    await pollUntil(async () => balancer.backends[2]!.served >= 50, Boolean, 10_000);
    const outcome = await load.stop();

    expect(outcome.failures).toEqual([]);
    process.stdout.write(`${JSON.stringify({
      requests: outcome.sent,
      failures: outcome.failures.length,
      servedBy: balancer.backends.map((backend) => backend.served),
      servedWhileDraining,
      takenOutOfBalancerMs: takenOutMs,
      stoppedAcceptingMs: shutdownStep(second.run, 'stopped accepting connections'),
      stoppedMs: shutdownStep(second.run, 'stopped'),
      exitedMs,
    })}\n`);
  } finally {
    await balancer.close();
  }
}, 30_000);

test('a token request still arriving when the server stops accepting is answered before it exits 0; new connections are refused', async () => {
  const instance = await startInstance(0);
  const client = await serverClient();
  const body = 'grant_type=client_credentials';
  // The server's 100 Continue says it has the request: it is in flight when the signal comes.
  const inFlight = request(`${instance.url}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': String(body.length),
      expect: '100-continue',
    },
  });
  const answered = once(inFlight, 'response') as Promise<[IncomingMessage]>;
  inFlight.flushHeaders();
  await once(inFlight, 'continue');
  inFlight.write(body.slice(0, 10));
  const exited = once(instance.run.child, 'exit');
  instance.run.child.kill('SIGTERM');
  await pollUntil(async () => shutdownStep(instance.run, 'stopped accepting connections'), (step) => step !== undefined, 5000);
  await expect(fetch(`${instance.url}/healthz`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });

  inFlight.end(body.slice(10));
  const [response] = await answered;
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  expect(response.statusCode).toBe(200);
  expect(JSON.parse(Buffer.concat(chunks).toString())).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) });
  const [code] = await exited;
  expect(code).toBe(0);
  expect(shutdownStep(instance.run, 'stopped')).toBeDefined();
}, 20_000);
