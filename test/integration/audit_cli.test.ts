import { recordAudit, type AuditEvent } from '../../src/storage/audit_log.ts';
import { cliDatabase, gatehouse, gatehouseEach, type AuditJson } from '../support/cli.ts';
import { createPerson } from '../support/accounts.ts';
import { listeningPort, startProcess } from '../support/server_process.ts';
import { pollUntil } from '../support/poll.ts';

const { env, db } = cliDatabase();

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** Records events as the server and the CLI do, each dated `ago` milliseconds back. */
function recordAt(...events: [number, AuditEvent][]): Promise<void> {
  return recordAudit(db(), ...events.map(([ago, event]) => ({ ...event, at: new Date(Date.now() - ago) })));
}

/** `gatehouse audit ARGS --json` for each list of ARGS: the events each printed. */
async function audits(...calls: string[][]): Promise<AuditJson[][]> {
  const runs = await gatehouseEach(calls.map((args) => [['audit', ...args, '--json']]), env);
  expect(runs.map(({ code, stderr }) => ({ code, stderr }))).toEqual(calls.map(() => ({ code: 0, stderr: '' })));
  return runs.map((run) => JSON.parse(run.stdout) as AuditJson[]);
}

describe('gatehouse audit', () => {
  beforeAll(() => recordAt(
    [3 * DAY, { event: 'sign_in.failed', actor: 'anonymous', username: 'alice', ip: '192.0.2.7', detail: { reason: 'wrong_password' } }],
    [2 * 60 * MINUTE, { event: 'token.issued', actor: 'client:portal', accountId: 'sub-alice', clientId: 'portal', detail: { grant_type: 'authorization_code' } }],
    [10 * MINUTE, { event: 'consent.given', actor: 'account:sub-bob', accountId: 'sub-bob', username: 'bob', clientId: 'wiki', detail: { scopes: ['openid', 'email'] } }],
    // A caller that put credentials in the detail by mistake: the log keeps the fact, not the value.
    [1 * MINUTE, { event: 'client.updated', actor: 'cli:operator', clientId: 'portal', detail: { fields: ['client_secret'], client_secret: 'hunter2-secret', password: 'hunter2', access_token: 'eyJ.x.y', code: 'abc' } }],
  ));

  test('every event, oldest first, in the JSON shape; filters by --since (duration or ISO), --user (username or sub), --client and --limit', async () => {
    const [all, lastHour, lastSeconds, sinceIso, sinceDate, alice, bob, portal, newestTwo] = await audits(
      [],
      ['--since', '1h'],
      // The units registration-token create --expires takes (s, m, h, d), as one parser reads both.
      ['--since', '90s'],
      ['--since', new Date(Date.now() - DAY).toISOString()],
      ['--since', new Date(Date.now() - 4 * DAY).toISOString().slice(0, 10)],
      ['--user', 'alice'],
      ['--user', 'sub-bob'],
      ['--client', 'portal'],
      ['--limit', '2'],
    ) as [AuditJson[], AuditJson[], AuditJson[], AuditJson[], AuditJson[], AuditJson[], AuditJson[], AuditJson[], AuditJson[]];
    expect(all.map((e) => e.event)).toEqual(['sign_in.failed', 'token.issued', 'consent.given', 'client.updated']);
    expect(all[0]).toEqual({
      id: expect.any(String), at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      event: 'sign_in.failed', actor: 'anonymous', sub: null, username: 'alice', client_id: null, ip: '192.0.2.7', detail: { reason: 'wrong_password' },
    });
    expect(all[2]).toMatchObject({ sub: 'sub-bob', username: 'bob', client_id: 'wiki', detail: { scopes: ['openid', 'email'] } });
    expect(all.map((e) => Date.parse(e.at))).toEqual([...all.map((e) => Date.parse(e.at))].sort());

    expect(lastHour.map((e) => e.event)).toEqual(['consent.given', 'client.updated']);
    expect(lastSeconds.map((e) => e.event)).toEqual(['client.updated']);
    expect(sinceIso.map((e) => e.event)).toEqual(['token.issued', 'consent.given', 'client.updated']);
    expect(sinceDate.map((e) => e.event)).toEqual(all.map((e) => e.event));
    // alice by her username (the failed sign-in) and nothing else; bob by his sub.
    expect(alice.map((e) => e.event)).toEqual(['sign_in.failed']);
    expect(bob.map((e) => e.event)).toEqual(['consent.given']);
    expect(portal.map((e) => e.event)).toEqual(['token.issued', 'client.updated']);
    expect(newestTwo.map((e) => e.event)).toEqual(['consent.given', 'client.updated']);
  });

  test('a detail field named like a credential is withheld, in JSON and in the text lines', async () => {
    const [[json], text] = await Promise.all([audits(['--client', 'portal']), gatehouse(['audit', '--client', 'portal', '--since', '5m'], env)]);
    expect(json![1]!.detail).toEqual({ fields: ['client_secret'], client_secret: '[withheld]', password: '[withheld]', access_token: '[withheld]', code: '[withheld]' });
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toMatch(/^\S+Z {2}client\.updated +actor=cli:operator client=portal /);
    // jsonb keeps the fields in an order of its own.
    for (const field of ['fields=client_secret', 'client_secret=[withheld]', 'password=[withheld]', 'access_token=[withheld]', 'code=[withheld]']) expect(text.stdout).toContain(` ${field}`);
    expect(text.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    for (const output of [JSON.stringify(json), text.stdout]) expect(output).not.toMatch(/hunter2|eyJ|=abc/);
  });

  test('--user names an account in any case or Unicode form, as sign-in does, and finds its events by its sub too', async () => {
    const sub = await createPerson(db(), { username: 'Zoe.Ward', password: 'a long enough password' });
    await recordAt(
      [2 * MINUTE, { event: 'sign_in.failed', actor: 'anonymous', accountId: sub, username: 'Zoe.Ward', detail: { reason: 'wrong_password' } }],
      [1 * MINUTE, { event: 'token.issued', actor: 'client:portal', accountId: sub, clientId: 'portal' }],
    );
    const [upper, fullwidth, bySub] = await audits(['--user', 'ZOE.WARD'], ['--user', '\uff5a\uff4f\uff45.\uff57\uff41\uff52\uff44'], ['--user', sub]);
    for (const events of [upper, fullwidth, bySub]) expect(events!.map((e) => e.event).filter((e) => e !== 'account.created')).toEqual(['sign_in.failed', 'token.issued']);
  });

  test('no match says so', async () => {
    expect(await gatehouse(['audit', '--user', 'nobody'], env)).toEqual({ code: 0, stdout: 'no audit events match\n', stderr: '' });
    expect(await audits(['--user', 'nobody'])).toEqual([[]]);
  });

  test('a bad --since or --limit exits 2 with one line saying what it takes', async () => {
    const since = (got: string) => `gatehouse: --since takes an ISO 8601 date or time (2026-11-01, 2026-11-01T08:00:00Z) or a duration (30m, 24h, 7d); got ${JSON.stringify(got)}\n`;
    const limit = (got: string) => `gatehouse: --limit takes a whole number of events from 1 to 999999 (got ${JSON.stringify(got)})\n`;
    const cases: [string[], string][] = [
      [['--since', 'yesterday'], since('yesterday')],
      [['--since', '24 h'], since('24 h')],
      [['--since', '2026-02-30'], since('2026-02-30')],
      [['--since', '2026-11-30T25:00'], since('2026-11-30T25:00')],
      [['--limit', '0'], limit('0')],
      [['--limit', 'ten'], limit('ten')],
      [['--limit', '1000000'], limit('1000000')],
      [['--limit'], "gatehouse: Option '--limit <value>' argument missing (gatehouse help lists what audit takes)\n"],
      [['--users', 'alice'], "gatehouse: Unknown option '--users' (gatehouse help lists what audit takes)\n"],
    ];
    const runs = await gatehouseEach(cases.map(([args]) => [['audit', ...args]]), env);
    expect(runs).toEqual(cases.map(([, stderr]) => ({ code: 2, stdout: '', stderr })));
  });
});

describe('the janitor and AUDIT_RETENTION_DAYS', () => {
  test('removes the events older than the retention and keeps the rest; with 0 it removes none', async () => {
    await db()('audit_events').delete();
    await recordAt(
      [1000 * DAY, { event: 'sign_in.succeeded', actor: 'account:a', detail: { n: 1 } }],
      [31 * DAY, { event: 'sign_in.succeeded', actor: 'account:a', detail: { n: 2 } }],
      [29 * DAY, { event: 'sign_in.succeeded', actor: 'account:a', detail: { n: 3 } }],
      [0, { event: 'sign_in.succeeded', actor: 'account:a', detail: { n: 4 } }],
    );
    const kept = async () => (await db()('audit_events').select('detail').orderBy('at')).map((row: { detail: { n: number } }) => row.detail.n);

    const forEver = await gatehouse(['janitor', '--json'], { ...env, AUDIT_RETENTION_DAYS: '0' });
    expect(JSON.parse(forEver.stdout)).toMatchObject({ removed: 0, tables: { audit_events: 0 } });
    expect(await kept()).toEqual([1, 2, 3, 4]);

    const month = await gatehouse(['janitor', '--batch-size', '1', '--json'], { ...env, AUDIT_RETENTION_DAYS: '30' });
    expect(JSON.parse(month.stdout)).toMatchObject({ removed: 2, tables: { audit_events: 2 } });
    expect(await kept()).toEqual([3, 4]);

    // The default keeps 400 days.
    expect(JSON.parse((await gatehouse(['janitor', '--json'], env)).stdout)).toMatchObject({ tables: { audit_events: 0 } });
    expect(await gatehouse(['janitor'], { ...env, AUDIT_RETENTION_DAYS: 'a year' })).toMatchObject({
      code: 2, stdout: '', stderr: expect.stringMatching(/^gatehouse: invalid configuration: AUDIT_RETENTION_DAYS: .+\n$/),
    });
  });

  test('the server\'s own janitor (every JANITOR_INTERVAL_SECONDS) enforces it too', async () => {
    await db()('audit_events').delete();
    await recordAt(
      [31 * DAY, { event: 'sign_in.succeeded', actor: 'account:a', detail: { n: 1 } }],
      [29 * DAY, { event: 'sign_in.succeeded', actor: 'account:a', detail: { n: 2 } }],
    );
    const server = startProcess({ ...env, PORT: '0', HOST: '127.0.0.1', JANITOR_INTERVAL_SECONDS: '1', AUDIT_RETENTION_DAYS: '30', SHUTDOWN_DRAIN_SECONDS: '0' });
    try {
      await listeningPort(server);
      const kept = await pollUntil(async () => (await db()('audit_events').pluck('detail')).map((detail: { n: number }) => detail.n), (n) => !n.includes(1), 15_000, 200);
      expect(kept).toEqual([2]);
    } finally {
      server.kill();
    }
  }, 30_000);
});
