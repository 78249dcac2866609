import { Agent, request } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { createPostgresDatabase, type TestDatabase } from '../support/databases.ts';
import { listeningPort, postgresServerEnv, startProcess, type ServerProcess } from '../support/server_process.ts';

let database: TestDatabase;
let run: ServerProcess;

beforeAll(async () => {
  database = await createPostgresDatabase();
});

afterAll(async () => {
  run?.kill();
  await database.drop();
});

/** GET on the agent's pooled connection; says whether it went on a connection used before. */
function get(agent: Agent, url: string): Promise<{ status: number; reusedSocket: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, reusedSocket: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('an idle keep-alive connection stays open longer than a load balancer keeps its own (60 s), so the balancer never sends on one the server just closed', async () => {
  run = startProcess(postgresServerEnv((database.config as { url: string }).url));
  const url = `http://127.0.0.1:${await listeningPort(run)}/healthz`;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    expect(await get(agent, url)).toEqual({ status: 200, reusedSocket: false });
    // Past Node's default of 5 s, which closes the connection under the balancer's feet.
    await delay(6000);
    expect(await get(agent, url)).toEqual({ status: 200, reusedSocket: true });
  } finally {
    agent.destroy();
  }
}, 60_000);
