import type { Middleware } from 'koa';
import pg from 'pg';
import { protect, type Auth, type AuthState } from 'gatehouse/rs';
import { coursesApi } from '../examples/courses-api/app.ts';
import { createTables, insertCourse } from '../examples/courses-api/courses_store.ts';
import { registerClient } from '../test/support/clients.ts';
import { clientCredentials } from '../test/support/http.ts';
import { listen, type Listening } from '../test/support/listen.ts';
import { compare, pairedRatio, type ComparePlan, type Measured, type Side } from './compare.ts';
import { startGatehouseTarget } from './gatehouse_target.ts';
import type { HttpRequest } from './load.ts';
import { positive } from './positive_env.ts';

/**
 * `npm run bench:rs`: the example API's GET /courses through gatehouse/rs's protect(), with an
 * opaque token whose introspection answer is cached (warm: one introspection per cacheSeconds)
 * and with a JWT access token validated locally, against the same route with no protection.
 * Gatehouse (Postgres + Redis) and the API run in this process; BENCH_SECONDS, BENCH_ROUNDS and
 * BENCH_CONNECTIONS as for `npm run bench`.
 */
const SECONDS = positive('BENCH_SECONDS', 12);
const CONNECTIONS = positive('BENCH_CONNECTIONS', 10);
const ROUNDS = Math.min(positive('BENCH_ROUNDS', 6), SECONDS);
const PLAN: ComparePlan = { connections: CONNECTIONS, warmupSeconds: 2, rounds: ROUNDS, roundSeconds: Math.round(SECONDS / ROUNDS) };
/** The kit with a warm cache must keep this share of the unprotected route's throughput. */
const TARGET_RATIO = 0.8;

// What protect() would set for the bench's server token: the unprotected side's handler does the same work.
const SERVER_AUTH: Auth = Object.freeze({ sub: undefined, clientId: 'bench', scopes: ['auth-none', 'read'], filters: {}, username: undefined, user: false });
const unprotected: Middleware<AuthState> = async (ctx, next) => {
  ctx.state.auth = SERVER_AUTH;
  await next();
};

async function main(): Promise<void> {
  const gatehouse = await startGatehouseTarget();
  const servers: Listening[] = [];
  const db = new pg.Pool({ connectionString: (gatehouse.shared.config.database as { url: string }).url, max: 10 });
  try {
    await createTables(db);
    for (const [org, title] of [['MITx', 'Circuits'], ['MITx', 'Signals'], ['HarvardX', 'Justice'], ['HarvardX', 'Statistics']] as const) await insertCourse(db, { org, title });
    const { resourceServer, server } = gatehouse.clients;
    const jwtClient = await registerClient(gatehouse.shared.db, { name: 'Bench JWT server', kind: 'server', scopes: 'auth-none read', 'access-token-format': 'jwt' });
    const token = async (client: typeof server) => String((await clientCredentials(gatehouse.url, client, { scope: 'auth-none read' })).body.access_token);
    const guard = protect({ issuer: gatehouse.url, clientId: resourceServer.client_id, clientSecret: resourceServer.client_secret });
    const [open, guarded] = await Promise.all([coursesApi(db, unprotected), coursesApi(db, guard)].map((app) => listen(app.callback())));
    servers.push(open!, guarded!);

    const get = (authorization?: string): HttpRequest => ({ method: 'GET', path: '/courses', headers: authorization ? { authorization } : {}, body: '' });
    const sides: Side[] = [
      { name: 'unprotected', url: open!.url, request: get() },
      { name: 'protect, introspection (warm cache)', url: guarded!.url, request: get(`Bearer ${await token(server)}`) },
      { name: 'protect, JWT validated locally', url: guarded!.url, request: get(`Bearer ${await token(jwtClient)}`) },
    ];
    for (const side of sides) await check(side);
    process.stderr.write(`GET /courses: ${sides.map((side) => side.name).join(', ')}...\n`);
    const results = await compare(sides, PLAN);
    console.log(`\n${CONNECTIONS} connections; per side ${PLAN.warmupSeconds} s warm-up, then ${ROUNDS} alternating runs of ${PLAN.roundSeconds} s; ratio: median of the rounds' ratios to the unprotected route (lowest–highest)\n`);
    console.log(report(sides, results));
  } finally {
    for (const each of servers) await each.close();
    await db.end();
    await gatehouse.close();
  }
}

/** The answer being measured: the course list, not an error. */
async function check(side: Side): Promise<void> {
  const response = await fetch(`${side.url}${side.request.path}`, { headers: side.request.headers });
  const body = (await response.json()) as unknown;
  if (response.status !== 200 || !Array.isArray(body) || body.length !== 4) throw new Error(`${side.name}: ${response.status} ${JSON.stringify(body)}`);
}

function report(sides: Side[], results: Measured[]): string {
  const reference = results[0]!;
  const lines = sides.map((side, index) => {
    const result = results[index]!;
    const ratio = pairedRatio(result, reference);
    const verdict = index === 0 ? '' : index === 1 ? `  target >= ${TARGET_RATIO}: ${ratio.median >= TARGET_RATIO ? 'PASS' : 'FAIL'}` : '';
    return `${side.name.padEnd(38)} ${result.reqPerSec.toFixed(0).padStart(6)} req/s  p99 ${result.p99Ms.toFixed(1).padStart(5)} ms  ${(result.cpuUsPerRequest?.toFixed(0) ?? 'n/a').padStart(4)} µs CPU/req  ratio ${ratio.median.toFixed(2)} (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})${verdict}`;
  });
  return lines.join('\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
