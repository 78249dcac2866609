import { EventEmitter } from 'node:events';
import type { Provider } from 'oidc-provider';
import { startGatehouse, TEST_KEY_ENCRYPTION_KEY, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, type RelyingParty } from '../support/relying_party.ts';
import { UserAgent, page, type Step } from '../support/user_agent.ts';
import { basic, clientCredentials, postForm } from '../support/http.ts';
import { pollUntil } from '../support/poll.ts';
import { gatehouse, type AuditJson } from '../support/cli.ts';
import type { CasServer } from '../support/cas_server.ts';
import { startCasPortal, type CasPortal } from '../support/cas_portal.ts';
import { createPostgresDatabase, openMigratedDatabase, type MigratedDatabase, type TestDatabase } from '../support/databases.ts';
import { proxyInFront, type TcpProxy } from '../support/tcp_proxy.ts';
import { listeningPort, postgresServerEnv, startProcess } from '../support/server_process.ts';
import { openDatabase, type Database, type Knex } from '../../src/storage/database.ts';
import { AuditWriter } from '../../src/storage/audit_log.ts';
import { AccountStore } from '../../src/storage/accounts.ts';
import { createMetrics } from '../../src/metrics.ts';

const CB = 'https://portal.example.edu/cb';

/**
 * The events requests caused, as an operator reads them: `gatehouse audit --json`, run as its own
 * process (the operator's own commands setting the test up are left out). A row with a `count`
 * stands for that many identical events (AuditWriter): the list has one entry per event.
 */
async function auditLog(gh: RunningGatehouse, ...args: string[]): Promise<AuditJson[]> {
  const run = await gatehouse(['audit', '--json', ...args], { DATABASE_URL: (gh.config.database as { url: string }).url, KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY });
  if (run.code !== 0) throw new Error(run.stderr);
  return (JSON.parse(run.stdout) as AuditJson[])
    .filter((event) => !event.actor.startsWith('cli:'))
    .flatMap(({ detail: { count, ...detail }, ...row }) => Array<AuditJson>(typeof count === 'number' ? count : 1).fill({ ...row, detail }));
}

/** The events (not rows: see auditLog) of requests written so far. */
async function eventsWritten(db: Knex, where: Record<string, string> = {}): Promise<number> {
  const [row] = await db('audit_events').where(where).whereNot('actor', 'like', 'cli:%').sum({ n: db.raw("coalesce((detail->>'count')::int, 1)") });
  return Number(row!.n ?? 0);
}

/** Waits for the buffered writer (every 200 ms) to have written at least `count` events of requests. */
async function written(db: Knex, count: number): Promise<number> {
  return pollUntil(() => eventsWritten(db), (n) => n >= count, 5000);
}

/** Every value the table holds, as text: what must never contain a credential. */
async function tableText(db: Knex): Promise<string> {
  const rows = (await db.raw('SELECT audit_events::text AS row FROM audit_events')).rows as { row: string }[];
  return rows.map((r) => r.row).join('\n');
}

/** The cookie values a browser holds for a step's page and its interaction's resume path. */
function cookieValues(browser: UserAgent, step: Step, issuer: string): string[] {
  const uid = /\/interaction\/([^/?]+)/.exec(step.url)?.[1];
  const headers = [browser.cookieHeader(step.url), uid ? browser.cookieHeader(`${issuer}/auth/${uid}`) : '', browser.cookieHeader(`${issuer}/`)];
  return headers.flatMap((header) => header.split('; ')).map((pair) => pair.slice(pair.indexOf('=') + 1)).filter((value) => value.length >= 16);
}

const codeOf = (step: Step) => new URL(step.url).searchParams.get('code')!;

describe('the events requests cause (password sign-in, consent, tokens)', () => {
  let gh: RunningGatehouse;
  let db: Knex;
  let web: RegisteredClient;
  let job: RegisteredClient;
  let portal: RelyingParty;
  let aliceSub: string;
  let bobSub: string;

  beforeAll(async () => {
    // Behind one proxy: the address recorded is the one it forwards, as the login limits see it.
    gh = await startGatehouse({ database: 'postgres', redis: true, env: { TRUST_PROXY: '1' } });
    db = gh.services.database.knex;
    web = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [CB], scopes: 'openid profile offline_access' });
    job = await registerClient(db, { name: 'Nightly job', kind: 'server', scopes: 'auth-none read' });
    aliceSub = await createPerson(db, { username: 'alice', password: 'correct horse battery' });
    bobSub = await createPerson(db, { username: 'bob', password: 'bobs own password' });
    portal = await relyingParty(gh.url, web, CB);
  });
  afterAll(() => gh.close());

  test('full flows are recorded with actor, account, client and address, and no password, secret, code, token or cookie reaches the table', async () => {
    const secrets = ['correct horse battery', 'bobs own password', 'wrong password 123', web.client_secret, job.client_secret];
    const browser = new UserAgent(CB).forwardedFor('203.0.113.7');
    const tokenAt = (form: Record<string, string>) => postForm(`${gh.url}/token`, form, basic(web.client_id, web.client_secret));
    const revoke = (token: string, client = web) => postForm(`${gh.url}/token/revocation`, { token }, basic(client.client_id, client.client_secret));

    // A wrong password, then the password typed into the username field, then the right one.
    const first = await portal.begin({ scope: 'openid profile offline_access', prompt: 'consent' });
    const login = await browser.open(first.url);
    const wrong = page(await browser.submit(login, '/login', { username: 'alice', password: 'wrong password 123' }));
    expect(wrong.status).toBe(401);
    expect(wrong.html).toContain('The username or password is not correct.');
    const misplaced = page(await browser.submit(wrong, '/login', { username: 'correct horse battery', password: '' }));
    expect(misplaced.html).toContain('The username or password is not correct.');
    const consent = page(await browser.submit(misplaced, '/login', { username: 'alice', password: 'correct horse battery' }));
    secrets.push(...cookieValues(browser, consent, gh.url), first.verifier);
    // Deny, then Allow on a second request, and its code exchanged, refreshed and replayed (which revokes the grant).
    const denied = await browser.submit(consent, '/abort');
    expect(new URL(denied.url).searchParams.get('error')).toBe('access_denied');

    const second = await portal.begin({ scope: 'openid profile offline_access', prompt: 'consent' });
    const allowPage = await browser.open(second.url);
    secrets.push(...cookieValues(browser, allowPage, gh.url), second.verifier);
    const callback = await browser.submit(allowPage, '/confirm');
    const code = codeOf(callback);
    const codeForm = { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: second.verifier };
    const tokens = await tokenAt(codeForm);
    expect(tokens.status).toBe(200);
    const refreshed = await tokenAt({ grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token) });
    expect(refreshed.status).toBe(200);
    expect((await tokenAt(codeForm)).body.error).toBe('invalid_grant');
    secrets.push(code, ...['access_token', 'refresh_token', 'id_token'].flatMap((name) => [tokens.body[name], refreshed.body[name]]).filter((v): v is string => typeof v === 'string'));

    // Two more consents: the client revokes the access token of one (oidc-provider takes the
    // grant's other tokens with it, not the grant), and the refresh token of the other (the grant too).
    const consentAndTokens = async () => {
      const request = await portal.begin({ scope: 'openid profile offline_access', prompt: 'consent' });
      const issued = codeOf(await browser.submit(await browser.open(request.url), '/confirm'));
      const body = (await tokenAt({ grant_type: 'authorization_code', code: issued, redirect_uri: CB, code_verifier: request.verifier })).body;
      secrets.push(issued, request.verifier, String(body.access_token), String(body.refresh_token), String(body.id_token));
      return body;
    };
    expect((await revoke(String((await consentAndTokens()).access_token))).status).toBe(200);
    expect((await revoke(String((await consentAndTokens()).refresh_token))).status).toBe(200);

    // A server's token, revoked by it.
    const machine = await clientCredentials(gh.url, job, { scope: 'auth-none read' });
    expect(machine.status).toBe(200);
    expect((await revoke(String(machine.body.access_token), job)).status).toBe(200);
    secrets.push(String(machine.body.access_token));

    // Bob's password guessed from elsewhere until the limit refuses.
    const guesser = new UserAgent(CB).forwardedFor('198.51.100.9');
    let step = await guesser.open((await portal.begin()).url);
    for (let i = 0; i < 6; i += 1) step = await guesser.submit(step, '/login', { username: 'bob', password: 'wrong password 123' });
    expect(page(step).status).toBe(429);

    await written(db, 24);
    const log = await auditLog(gh);
    const named = (event: string) => log.filter((e) => e.event === event);
    const alice = { sub: aliceSub, username: 'alice' };

    expect(named('sign_in.failed').slice(0, 2)).toEqual([
      expect.objectContaining({ actor: 'anonymous', ...alice, client_id: web.client_id, ip: '203.0.113.7', detail: { method: 'password', reason: 'wrong_password' } }),
      // What was typed was no username: it is not kept (it was a password here).
      expect.objectContaining({ actor: 'anonymous', sub: null, username: null, ip: '203.0.113.7', detail: { method: 'password', reason: 'unknown_user' } }),
    ]);
    expect(named('sign_in.succeeded')).toEqual([expect.objectContaining({ actor: `account:${aliceSub}`, ...alice, client_id: web.client_id, ip: '203.0.113.7', detail: { method: 'password' } })]);
    expect(named('consent.refused')).toEqual([expect.objectContaining({ actor: `account:${aliceSub}`, ...alice, client_id: web.client_id, ip: '203.0.113.7', detail: { scopes: ['openid', 'profile', 'offline_access'] } })]);
    expect(named('consent.given')).toEqual(Array(3).fill(expect.objectContaining({ actor: `account:${aliceSub}`, ...alice, client_id: web.client_id, ip: '203.0.113.7', detail: { scopes: ['openid', 'profile', 'offline_access'], asked: true } })));

    const byClient = { actor: `client:${web.client_id}`, client_id: web.client_id, ip: '127.0.0.1' };
    // Identical events a flush apart or less are one row (AuditWriter): compared by grant type, not order.
    const issuedBy = (grantType: string) => named('token.issued').filter((e) => e.detail.grant_type === grantType);
    const personTokens = { grant_type: 'authorization_code', scopes: ['openid', 'profile', 'offline_access'], issued: ['access_token', 'refresh_token'] };
    expect(issuedBy('authorization_code')).toEqual(Array(3).fill(expect.objectContaining({ ...byClient, ...alice, detail: personTokens })));
    expect(issuedBy('refresh_token')).toEqual([expect.objectContaining({ ...byClient, ...alice, detail: { ...personTokens, grant_type: 'refresh_token', issued: ['access_token'] } })]);
    expect(issuedBy('client_credentials')).toEqual([expect.objectContaining({ actor: `client:${job.client_id}`, client_id: job.client_id, sub: null, username: null, detail: { grant_type: 'client_credentials', scopes: ['auth-none', 'read'], issued: ['access_token'] } })]);
    expect(named('token.issued')).toHaveLength(5);
    expect(named('token.revoked')).toEqual([
      expect.objectContaining({ ...byClient, ...alice, detail: { token_type: 'access_token' } }),
      expect.objectContaining({ ...byClient, ...alice, detail: { token_type: 'refresh_token' } }),
      expect.objectContaining({ actor: `client:${job.client_id}`, client_id: job.client_id, sub: null, detail: { token_type: 'client_credentials' } }),
    ]);
    // The replayed code is gone with its grant before anything reads whose it was: the client and address say who.
    expect(named('token.reuse_detected')).toEqual([expect.objectContaining({ ...byClient, detail: { grant_type: 'authorization_code', concurrent: false } })]);
    expect(named('consent.revoked')).toEqual([
      expect.objectContaining({ ...byClient, detail: { reason: 'token_reuse' } }),
      expect.objectContaining({ ...byClient, ...alice, detail: { reason: 'refresh_token_revoked' } }),
    ]);

    const bob = { actor: 'anonymous', sub: bobSub, username: 'bob', client_id: web.client_id, ip: '198.51.100.9' };
    expect(named('sign_in.failed').slice(2)).toEqual(Array(5).fill(expect.objectContaining({ ...bob, detail: { method: 'password', reason: 'wrong_password' } })));
    expect(named('sign_in.locked_out')).toEqual([expect.objectContaining({ ...bob, detail: { method: 'password', retry_after_seconds: expect.any(Number) } })]);

    const text = await tableText(db);
    for (const secret of secrets) expect(text).not.toContain(secret);
    // `gatehouse audit --user` finds the person's events by name.
    expect((await auditLog(gh, '--user', 'bob')).map((e) => e.event)).toEqual([...Array(5).fill('sign_in.failed'), 'sign_in.locked_out']);
  });

  test('signing out ends the consents of the session that do not outlive it (no offline access): recorded as the person\'s act', async () => {
    const carolSub = await createPerson(db, { username: 'carol', password: 'carols password' });
    const browser = new UserAgent(CB).forwardedFor('192.0.2.44');
    const request = await portal.begin({ scope: 'openid profile' });
    const consent = await browser.signIn(request.url, 'carol', 'carols password');
    expect((await browser.submit(consent, '/confirm')).kind).toBe('callback');
    const confirm = await browser.open(`${gh.url}/session/end`);
    expect(page(await browser.submit(confirm, '/session/end/confirm', { logout: 'yes' })).status).toBe(200);

    const revoked = await pollUntil(async () => (await auditLog(gh, '--user', 'carol')).filter((e) => e.event === 'consent.revoked'), (found) => found.length > 0, 5000);
    expect(revoked).toEqual([expect.objectContaining({ actor: `account:${carolSub}`, sub: carolSub, username: 'carol', client_id: null, ip: '192.0.2.44', detail: { reason: 'signed_out' } })]);
  });
});

describe('CAS sign-in events', () => {
  let gh: RunningGatehouse;
  let cas: CasServer;
  let portal: RelyingParty;
  let web: RegisteredClient;
  let site: CasPortal;

  beforeAll(async () => {
    site = await startCasPortal(CB, 'openid profile');
    ({ gh, cas, web, portal } = site);
  });
  afterAll(() => site.close());

  test('a CAS sign-in, a rejected ticket and a disabled account are recorded without any ticket', async () => {
    const db = gh.services.database.knex;
    cas.signInAs('jdoe', { mail: ['jdoe@example.edu'] });
    expect((await new UserAgent(CB).open((await portal.begin()).url)).kind).toBe('callback');
    const jdoe = (await new AccountStore(db).findByUsername('jdoe'))!;

    const victim = new UserAgent(CB, cas.url);
    const service = new URL((await victim.open((await portal.begin()).url)).url).searchParams.get('service')!;
    expect(page(await victim.open(`${service}?ticket=ST-forged-123456789`)).status).toBe(400);

    await new AccountStore(db).setDisabled(jdoe.id, true);
    expect(page(await new UserAgent(CB).open((await portal.begin()).url)).status).toBe(400);

    await written(db, 4);
    const log = await auditLog(gh);
    const person = { sub: jdoe.id, username: 'jdoe', client_id: web.client_id, ip: '127.0.0.1' };
    expect(log.map(({ event, actor, sub, username, client_id, ip, detail }) => ({ event, actor, sub, username, client_id, ip, detail }))).toEqual([
      { event: 'sign_in.succeeded', actor: `account:${jdoe.id}`, ...person, detail: { method: 'cas' } },
      // A client trusted to skip the consent page: the grant is recorded, as not asked.
      { event: 'consent.given', actor: `account:${jdoe.id}`, ...person, detail: { scopes: ['openid'], asked: false } },
      { event: 'sign_in.failed', actor: 'anonymous', sub: null, username: null, client_id: web.client_id, ip: '127.0.0.1', detail: { method: 'cas', reason: 'cas_ticket_rejected', cas_error: 'INVALID_TICKET' } },
      { event: 'sign_in.failed', actor: 'anonymous', ...person, detail: { method: 'cas', reason: 'account_disabled' } },
    ]);
    const text = await tableText(db);
    for (const { ticket } of cas.issued) expect(text).not.toContain(ticket);
    expect(text).not.toContain('ST-forged-123456789');
  });
});

describe('the buffered writer', () => {
  let testDb: TestDatabase;
  let sql: MigratedDatabase;
  let direct: Database;
  let proxied: Database;
  let proxy: TcpProxy;

  beforeAll(async () => {
    testDb = await createPostgresDatabase();
    sql = await openMigratedDatabase(testDb);
    direct = sql.db;
    const through = await proxyInFront((testDb.config as { url: string }).url);
    proxy = through.proxy;
    proxied = await openDatabase({ kind: 'postgres', url: through.url });
  });
  afterAll(async () => {
    await proxied.close();
    await proxy.close();
    await sql.close();
  });

  const rows = () => direct.knex('audit_events').orderBy('id').select('detail', 'at');

  test('keeps events while the database is unreachable and writes them, with the time they happened, once it is back; past its bound the oldest are dropped and counted', async () => {
    const failures: string[] = [];
    const writer = new AuditWriter(proxied.knex, { error: (_fields, message) => failures.push(message) }, { flushMs: 50, maxBuffered: 5 });
    const metrics = createMetrics(new EventEmitter() as unknown as Provider, { knex: proxied.knex, redis: undefined, audit: writer });
    const event = (n: number) => writer.record({ event: 'token.issued', actor: 'client:job', clientId: 'job', detail: { n } });

    proxy.cut();
    const happened = new Date();
    for (let n = 1; n <= 7; n += 1) event(n);
    await pollUntil(async () => failures.length, (count) => count > 0, 5000);
    expect(failures[0]).toBe('audit events not written yet: kept for the next try');
    expect(await rows()).toEqual([]);
    expect(writer.dropped).toBe(2);
    expect(await metrics.registry.getSingleMetricAsString('gatehouse_audit_events_dropped_total')).toContain('gatehouse_audit_events_dropped_total 2');

    await new Promise((resolve) => setTimeout(resolve, 1000));
    proxy.restore();
    const stored = await pollUntil(rows, (found) => found.length >= 5, 10_000);
    expect(stored.map((row) => row.detail.n)).toEqual([3, 4, 5, 6, 7]);
    for (const row of stored) expect(Math.abs(new Date(row.at).getTime() - happened.getTime())).toBeLessThan(500);

    // close() writes what is still buffered, as services.close() does at shutdown.
    event(8);
    await writer.close();
    expect((await rows()).map((row) => row.detail.n)).toEqual([3, 4, 5, 6, 7, 8]);
  });

  test('identical events in one buffer are one row with their count, at the first one\'s time', async () => {
    await direct.knex('audit_events').del();
    const writer = new AuditWriter(proxied.knex, { error: () => {} }, { flushMs: 200, maxBuffered: 10_000 });
    const guess = { event: 'sign_in.failed', actor: 'anonymous', clientId: 'portal', ip: '198.51.100.9', detail: { method: 'password', reason: 'unknown_user' } } as const;
    const first = Date.now();
    for (let n = 0; n < 1000; n += 1) writer.record(guess);
    writer.record({ ...guess, ip: '198.51.100.10' });
    await writer.close();
    const stored = await rows();
    expect(stored.map((row) => row.detail)).toEqual([{ ...guess.detail, count: 1000 }, guess.detail]);
    expect(Math.abs(new Date(stored[0].at).getTime() - first)).toBeLessThan(100);
  });

  test('a backlog of 10,000 events (an outage on a busy instance) is written once the database is back', async () => {
    await direct.knex('audit_events').del();
    const failures: string[] = [];
    const writer = new AuditWriter(proxied.knex, { error: (_fields, message) => failures.push(message) }, { flushMs: 50, maxBuffered: 10_000 });
    proxy.cut();
    for (let n = 1; n <= 10_000; n += 1) writer.record({ event: 'token.issued', actor: 'client:job', clientId: 'job', detail: { n } });
    await pollUntil(async () => failures.length, (count) => count > 0, 5000);
    proxy.restore();
    const count = () => direct.knex('audit_events').count({ n: '*' }).then((rows) => Number(rows[0]!.n));
    expect(await pollUntil(count, (n) => n === 10_000, 10_000)).toBe(10_000);
    expect(writer.dropped).toBe(0);
    await writer.close();
  });

  test('close() returns only once every event is written, even while a timer\'s flush is still writing', async () => {
    await direct.knex('audit_events').del();
    const writer = new AuditWriter(proxied.knex, { error: () => {} }, { flushMs: 200, maxBuffered: 10_000 });
    for (let n = 1; n <= 2000; n += 1) writer.record({ event: 'token.issued', actor: 'client:job', clientId: 'job', detail: { n } });
    // As the timer would: a flush under way (writing its first 1000) when shutdown closes the writer.
    const underWay = writer.flush();
    await new Promise((resolve) => setImmediate(resolve));
    await writer.close();
    expect(await direct.knex('audit_events').count({ n: '*' })).toEqual([{ n: '2000' }]);
    await underWay;
  });

  test('a SIGTERM writes the events still buffered before the process exits', async () => {
    await direct.knex('audit_events').del();
    const job = await registerClient(direct.knex, { name: 'Job', kind: 'server', scopes: 'auth-none read' });
    const run = startProcess(postgresServerEnv((testDb.config as { url: string }).url, { SHUTDOWN_DRAIN_SECONDS: '0' }));
    try {
      const url = `http://127.0.0.1:${await listeningPort(run)}`;
      const tokens = await Promise.all(Array.from({ length: 3 }, () => clientCredentials(url, job, { scope: 'read' })));
      expect(tokens.map((t) => t.status)).toEqual([200, 200, 200]);
      // At once: well within the writer's 200 ms, so the events are still in its buffer.
      run.child.kill('SIGTERM');
      const code = await new Promise((resolve) => run.child.once('exit', resolve));
      expect(code).toBe(0);
      expect(await eventsWritten(direct.knex, { event: 'token.issued', client_id: job.client_id })).toBe(3);
    } finally {
      run.kill();
    }
  });
});
