import { request } from 'node:http';
import { startGatehouse, TEST_KEY_ENCRYPTION_KEY, type RunningGatehouse } from '../support/gatehouse.ts';
import { gatehouse } from '../support/cli.ts';

const CB = 'https://portal.example.edu/cb';
let gh: RunningGatehouse;
let token: string;
let env: Record<string, string>;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** A raw request (node:http): the body goes out byte for byte, whatever it holds. */
function send(method: string, path: string, bearer: string | undefined, body?: Buffer | string, contentType = 'application/json'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, gh.url);
    const req = request(url, {
      method,
      headers: { ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }), ...(body === undefined ? {} : { 'content-type': contentType }) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: Record<string, unknown> = {};
        try {
          parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        } catch {
          parsed = { text };
        }
        resolve({ status: res.statusCode!, headers: res.headers, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const register = (body: Buffer | string) => send('POST', '/reg', token, body);
const countClients = async () => Number((await gh.services.database.knex('oidc_models').where({ model: 'Client' }).count<{ count: string }[]>('* as count'))[0]!.count);

beforeAll(async () => {
  gh = await startGatehouse({ database: 'postgres', redis: true });
  env = { DATABASE_URL: (gh.config.database as { url: string }).url, KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY };
  const run = await gatehouse(['registration-token', 'create', '--kind', 'web', '--scopes', 'openid profile email', '--uses', '50', '--json'], env);
  token = (JSON.parse(run.stdout) as { initial_access_token: string }).initial_access_token;
});
afterAll(() => gh.close());

describe('bytes a client sends that Postgres or a person could not take are refused with the RFC error, never a 500', () => {
  test.each([
    ['a lone surrogate in a string', Buffer.from(`{"client_name":"Portal \\ud800","redirect_uris":["${CB}"]}`), 'client_name contains a lone surrogate (\\ud800-\\udfff), which is no character'],
    ['bytes that are not UTF-8', Buffer.concat([Buffer.from('{"client_name":"Portal '), Buffer.from([0xff, 0xfe]), Buffer.from(`","redirect_uris":["${CB}"]}`)]), 'the request body is not UTF-8'],
    // The field is named, not the index of the list item that holds the NUL.
    ['a NUL in a redirect URI', Buffer.from(`{"client_name":"Portal","redirect_uris":["${CB}\\u0000"]}`), 'redirect_uris contains a NUL character'],
    // Valid JSON, nested past the call stack: its field is what is wrong, not the JSON.
    ['a value nested 30,000 deep', Buffer.from(`{"client_name":${'['.repeat(30_000)}${']'.repeat(30_000)},"redirect_uris":["${CB}"]}`), 'client_name must be a string'],
  ])('%s', async (_label, body, description) => {
    const before = await countClients();
    const refused = await register(body);
    expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_client_metadata', error_description: description } });
    expect(refused.headers['cache-control']).toBe('no-store');
    expect(await countClients()).toBe(before);
  });

  test('a body over 64 KiB is refused with the RFC error, even while the client is still sending megabytes of it (it was a reset connection)', async () => {
    const before = await countClients();
    for (const size of [70_000, 1_000_000, 20_000_000]) {
      const refused = await register(JSON.stringify({ client_name: 'x'.repeat(size), redirect_uris: [CB] }));
      expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_client_metadata', error_description: 'the request body is over 64 KiB' } });
    }
    expect(await countClients()).toBe(before);
  });

  test('a client id holding NUL in /reg/CLIENT_ID is an unknown client (401), not a 500', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const answer = await send(method, '/reg/%00', 'anything', method === 'PUT' ? '{}' : undefined);
      expect(answer).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
    }
  });
});

describe('what a registration may not name', () => {
  test.each([
    [{ redirect_uris: ['https://mit.edu@evil.example/cb'] }, 'invalid_redirect_uri', 'redirect_uris: a redirect URI must not carry a user name or password: https://mit.edu@evil.example/cb'],
    [{ redirect_uris: ['https://user:secret@portal.example.edu/cb'] }, 'invalid_redirect_uri', 'redirect_uris: a redirect URI must not carry a user name or password: https://user:secret@portal.example.edu/cb'],
    [{ post_logout_redirect_uris: ['https://mit.edu@evil.example/bye'] }, 'invalid_client_metadata', 'post_logout_redirect_uris: a redirect URI must not carry a user name or password: https://mit.edu@evil.example/bye'],
    // U+202E turns the rest of the consent page's sentence around; U+0007 and friends show as nothing.
    [{ client_name: 'Portal\u202e' }, 'invalid_client_metadata', 'client_name must not contain control or bidirectional formatting characters (U+202E)'],
    [{ client_name: 'Port\u0007al' }, 'invalid_client_metadata', 'client_name must not contain control or bidirectional formatting characters (U+0007)'],
  ])('%j', async (overrides, error, description) => {
    const before = await countClients();
    const refused = await register(JSON.stringify({ client_name: 'Portal', redirect_uris: [CB], ...overrides }));
    expect(refused).toMatchObject({ status: 400, body: { error, error_description: description } });
    expect(await countClients()).toBe(before);
  });

  test('the CLI refuses a redirect URI with a user name by the same rule', async () => {
    const refused = await gatehouse(['clients', 'create', '--name', 'P', '--kind', 'web', '--redirect-uri', 'https://mit.edu@evil.example/cb'], env);
    expect(refused).toMatchObject({ code: 2, stderr: 'gatehouse: --redirect-uri: a redirect URI must not carry a user name or password: https://mit.edu@evil.example/cb\n' });
  });
});

describe('a back-channel logout URI, where Gatehouse posts from inside the network, is the operator\'s to set', () => {
  const description = 'backchannel_logout_uri is set by an operator only (gatehouse clients update --backchannel-logout-uri): Gatehouse posts to it from inside the network';

  test.each(['http://127.0.0.1:6379/', 'https://10.0.0.5/admin/reset', 'https://portal.example.edu/logout'])('a registration naming %s is refused', async (uri) => {
    const before = await countClients();
    const refused = await register(JSON.stringify({ client_name: 'Portal', redirect_uris: [CB], backchannel_logout_uri: uri }));
    expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_client_metadata', error_description: description } });
    expect(await countClients()).toBe(before);
  });

  test('an update may repeat the one the operator set, not name another', async () => {
    const registered = (await register(JSON.stringify({ client_name: 'Portal', redirect_uris: [CB] }))).body;
    const clientId = registered.client_id as string;
    const logout = 'https://portal.example.edu/logout';
    expect((await gatehouse(['clients', 'update', clientId, '--backchannel-logout-uri', logout], env)).code).toBe(0);
    const put = (access: string, uri: string) => send('PUT', `/reg/${clientId}`, access, JSON.stringify({ client_id: clientId, client_name: 'Portal', redirect_uris: [CB], backchannel_logout_uri: uri }));
    const kept = await put(registered.registration_access_token as string, logout);
    expect(kept).toMatchObject({ status: 200, body: { backchannel_logout_uri: logout } });
    const moved = await put(kept.body.registration_access_token as string, 'http://localhost:8500/v1/agent/leave');
    expect(moved).toMatchObject({ status: 400, body: { error: 'invalid_client_metadata', error_description: description } });
  });
});

test('an operator revokes a leaked initial access token by its id: it registers nothing more, and the revocation is audited', async () => {
  const issued = JSON.parse((await gatehouse(['registration-token', 'create', '--kind', 'web', '--uses', '10', '--json'], env)).stdout) as { initial_access_token: string; id: string };
  const metadata = JSON.stringify({ client_name: 'Portal', redirect_uris: [CB] });
  expect((await send('POST', '/reg', issued.initial_access_token, metadata)).status).toBe(201);
  expect(await gatehouse(['registration-token', 'revoke', issued.id], env)).toEqual({ code: 0, stdout: `revoked registration token ${issued.id} (it had 9 uses left)\n`, stderr: '' });
  expect(await send('POST', '/reg', issued.initial_access_token, metadata)).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
  const events = await gh.services.database.knex('audit_events').where({ event: 'registration_token.revoked' }).whereRaw("detail->>'token_id' = ?", [issued.id]);
  expect(events).toEqual([expect.objectContaining({ actor: expect.stringMatching(/^cli:/) })]);
  expect(await gatehouse(['registration-token', 'revoke', 'feedfacefeedface'], env)).toEqual({ code: 2, stdout: '', stderr: 'gatehouse: no registration token feedfacefeedface\n' });
});

describe('an operator\'s edit of a registered client', () => {
  test('ends its self-management, so the registrant cannot PUT back what the operator narrowed; clients delete leaves no registration behind', async () => {
    const registered = await register(JSON.stringify({ client_name: 'Portal', kind: 'web', redirect_uris: [CB], scope: 'openid profile email' }));
    expect(registered.status).toBe(201);
    const { client_id: clientId, registration_access_token: manage } = registered.body as { client_id: string; registration_access_token: string };
    expect((await send('GET', `/reg/${clientId}`, manage)).status).toBe(200);

    const narrowed = await gatehouse(['clients', 'update', clientId, '--scopes', 'openid'], env);
    expect(narrowed).toMatchObject({ code: 0, stderr: '' });
    const widenAgain = JSON.stringify({ client_id: clientId, client_name: 'Portal', kind: 'web', redirect_uris: [CB], scope: 'openid profile email' });
    expect(await send('PUT', `/reg/${clientId}`, manage, widenAgain)).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
    expect(await send('GET', `/reg/${clientId}`, manage)).toMatchObject({ status: 401 });
    const shown = JSON.parse((await gatehouse(['clients', 'show', clientId, '--json'], env)).stdout) as { allowed_scopes: string };
    expect(shown.allowed_scopes).toBe('openid');
    const audit = JSON.parse((await gatehouse(['audit', '--client', clientId, '--json'], env)).stdout) as { event: string; detail: Record<string, unknown> }[];
    expect(audit.at(-1)).toMatchObject({ event: 'client.updated', detail: { fields: ['allowed_scopes', 'scope'], self_management_ended: true } });

    const other = await register(JSON.stringify({ client_name: 'Wiki', kind: 'web', redirect_uris: [CB] }));
    const otherId = (other.body as { client_id: string }).client_id;
    expect(await gatehouse(['clients', 'delete', otherId], env)).toMatchObject({ code: 0 });
    expect(await gh.services.database.knex('client_registrations').where({ client_id: otherId }).first()).toBeUndefined();
  }, 30_000);
});
