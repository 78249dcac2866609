import { startGatehouse, TEST_KEY_ENCRYPTION_KEY, type RunningGatehouse } from '../support/gatehouse.ts';
import { gatehouse } from '../support/cli.ts';
import { createPerson } from '../support/accounts.ts';
import { oidc } from '../support/relying_party.ts';
import { UserAgent } from '../support/user_agent.ts';
import { clientCredentials } from '../support/http.ts';
import { defineEnterpriseScope } from '../../src/storage/enterprise_scopes.ts';

const CB = 'http://localhost:8089/cb';
let gh: RunningGatehouse;
let env: Record<string, string>;

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function send(method: string, url: string, token: string | undefined, body?: unknown, contentType = 'application/json'): Promise<Answer> {
  const response = await fetch(url, {
    method,
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': contentType }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const register = (token: string | undefined, metadata: unknown) => send('POST', `${gh.url}/reg`, token, metadata);

/** `gatehouse registration-token create … --json`, the real command in its own process. */
async function issueToken(...args: string[]): Promise<{ initial_access_token: string; id: string; expires_at: string }> {
  const run = await gatehouse(['registration-token', 'create', ...args, '--json'], env);
  if (run.code !== 0) throw new Error(`registration-token create failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as { initial_access_token: string; id: string; expires_at: string };
}

const db = () => gh.services.database.knex;
const countClients = async () => Number((await db()('oidc_models').where({ model: 'Client' }).count<{ count: string }[]>('* as count'))[0]!.count);

let web: string;
let server: string;

beforeAll(async () => {
  gh = await startGatehouse({ database: 'postgres', redis: true });
  env = { DATABASE_URL: (gh.config.database as { url: string }).url, KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY };
  await createPerson(db(), { username: 'alice', password: 'correct horse battery' });
  await defineEnterpriseScope(db(), { name: 'grades', group: 'teachers', description: 'Your grades' });
  [web, server] = await Promise.all([
    issueToken('--kind', 'web', '--kind', 'spa', '--scopes', 'openid profile email read', '--uses', '20').then((t) => t.initial_access_token),
    issueToken('--kind', 'server', '--scopes', 'auth-none read', '--uses', '20').then((t) => t.initial_access_token),
  ]);
});
afterAll(() => gh.close());

test('discovery names the registration endpoint', async () => {
  const discovery = await (await fetch(`${gh.url}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
  expect(discovery.registration_endpoint).toBe(`${gh.url}/reg`);
});

test('openid-client registers a web client with an initial access token, which then signs a person in', async () => {
  const config = await oidc.dynamicClientRegistration(
    new URL(gh.url),
    { client_name: 'Self-registered portal', kind: 'web', redirect_uris: [CB], scope: 'openid profile read', policy_uri: 'https://portal.example.edu/privacy' } as Partial<oidc.ClientMetadata>,
    undefined,
    { initialAccessToken: web, execute: [oidc.allowInsecureRequests] },
  );
  const registered = config.clientMetadata();
  expect(registered).toMatchObject({ kind: 'web', token_endpoint_auth_method: 'client_secret_basic', scope: 'openid profile read', allowed_scopes: 'openid profile read', policy_uri: 'https://portal.example.edu/privacy' });
  expect(registered.client_secret).toEqual(expect.any(String));
  expect(registered.registration_client_uri).toBe(`${gh.url}/reg/${registered.client_id}`);

  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: CB, scope: 'openid profile read', state, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const browser = new UserAgent(CB);
  const consent = await browser.signIn(url.href, 'alice', 'correct horse battery');
  const callback = await browser.submit(consent, '/confirm');
  expect(callback.kind).toBe('callback');
  const tokens = await oidc.authorizationCodeGrant(config, new URL(callback.url), { pkceCodeVerifier: verifier, expectedState: state });
  expect(tokens.scope).toBe('openid profile read');
  expect(tokens.claims()).toMatchObject({ iss: gh.url, aud: registered.client_id });
});

test('a relying party registering with client_secret_post, as openid-client authenticates by default, gets a client its secret works for', async () => {
  const config = await oidc.dynamicClientRegistration(
    new URL(gh.url),
    { client_name: 'Nightly export', kind: 'server', scope: 'auth-none read', token_endpoint_auth_method: 'client_secret_post' } as Partial<oidc.ClientMetadata>,
    undefined,
    { initialAccessToken: server, execute: [oidc.allowInsecureRequests] },
  );
  expect(config.clientMetadata()).toMatchObject({ kind: 'server', token_endpoint_auth_method: 'client_secret_basic' });
  // openid-client sends the secret in the form (ClientSecretPost); Basic works as well.
  expect((await oidc.clientCredentialsGrant(config, { scope: 'read' })).scope).toBe('read');
  const { client_id: clientId, client_secret: secret } = config.clientMetadata() as { client_id: string; client_secret: string };
  expect((await clientCredentials(gh.url, { client_id: clientId, client_secret: secret }, { scope: 'read' })).status).toBe(200);
});

describe("a registration gets no more than its token allows, and the refusal names the field", () => {
  test.each([
    ['an enterprise scope', { kind: 'web', scope: 'openid grades' }, 'scope: grades not allowed by this initial access token (it allows openid profile email read)'],
    ['a scope the token does not list', { kind: 'web', scope: 'openid groups' }, 'scope: groups not allowed by this initial access token (it allows openid profile email read)'],
    ['the restricted flag', { kind: 'web', restricted: true }, 'restricted: a restricted client is not allowed by this initial access token'],
    ['skipping consent', { kind: 'web', consent: 'skip' }, 'consent: skip is not allowed by this initial access token: the person is asked (prompt)'],
    ['a kind it does not allow', { kind: 'server', redirect_uris: [], scope: 'read' }, 'kind server is not allowed by this initial access token (it allows web, spa)'],
    ['an organization', { kind: 'web', organizations: { course_org: 'MITx' } }, 'organizations: course_org=MITx is not allowed by this initial access token'],
    ['no kind, when the token allows two', { kind: undefined }, 'kind is required: this initial access token allows web, spa'],
  ])('%s', async (_label, overrides, description) => {
    const before = await countClients();
    const refused = await register(web, { client_name: 'Greedy', redirect_uris: [CB], ...overrides });
    expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_client_metadata', error_description: description } });
    expect(await countClients()).toBe(before);
  });

  test('a spa is registered public: no secret, authenticating with none', async () => {
    const spa = await register(web, { client_name: 'Course app', kind: 'spa', redirect_uris: [CB] });
    expect(spa).toMatchObject({ status: 201, body: { kind: 'spa', token_endpoint_auth_method: 'none', scope: 'openid profile email' } });
    expect(spa.body).not.toHaveProperty('client_secret');
    expect(spa.body).not.toHaveProperty('client_secret_expires_at');
  });

  test('auth-none needs a server token that names it', async () => {
    const readOnly = (await issueToken('--kind', 'server', '--scopes', 'read')).initial_access_token;
    const refused = await register(readOnly, { client_name: 'Batch', scope: 'auth-none read' });
    expect(refused.body).toEqual({ error: 'invalid_client_metadata', error_description: 'scope: auth-none not allowed by this initial access token (it allows read)' });
    // The kind's default scope is auth-none too: leaving scope out asks for it.
    expect((await register(readOnly, { client_name: 'Batch' })).body.error_description).toBe('scope: auth-none not allowed by this initial access token (it allows read)');
    const allowed = await register(server, { client_name: 'Batch', scope: 'auth-none read' });
    expect(allowed).toMatchObject({ status: 201, body: { kind: 'server', grant_types: ['client_credentials'], scope: 'auth-none read' } });
    expect((await clientCredentials(gh.url, allowed.body as { client_id: string; client_secret: string }, { scope: 'read' })).status).toBe(200);
  });

  test('a token made with --restricted, --consent-skip and --org allows exactly those', async () => {
    const wide = (await issueToken('--kind', 'server', '--scopes', 'auth-none grades course_org', '--restricted', '--org', 'course_org=MITx')).initial_access_token;
    expect((await register(wide, { client_name: 'Grader', scope: 'auth-none grades course_org', restricted: true, organizations: { course_org: 'Harvard' } })).body)
      .toEqual({ error: 'invalid_client_metadata', error_description: 'organizations: course_org=Harvard is not allowed by this initial access token' });
    const registered = await register(wide, { client_name: 'Grader', scope: 'auth-none grades course_org', restricted: true, organizations: { course_org: 'MITx' } });
    expect(registered).toMatchObject({ status: 201, body: { restricted: true, access_token_format: 'jwt', organizations: { course_org: 'MITx' } } });
  });
});

describe('bad metadata is refused per field, by the same rules as the CLI, and nothing is written', () => {
  test.each([
    [{ redirect_uris: ['http://portal.example.edu/cb'] }, 'invalid_redirect_uri', 'redirect_uris: a redirect URI must use https (http only for localhost): http://portal.example.edu/cb'],
    [{ redirect_uris: ['https://portal.example.edu/cb#x'] }, 'invalid_redirect_uri', 'redirect_uris: a redirect URI must not have a fragment: https://portal.example.edu/cb#x'],
    [{ redirect_uris: [] }, 'invalid_redirect_uri', 'a web client needs at least one redirect_uris'],
    [{ redirect_uris: 'https://portal.example.edu/cb' }, 'invalid_redirect_uri', 'redirect_uris must be an array of strings'],
    [{ post_logout_redirect_uris: ['javascript:alert(1)'] }, 'invalid_client_metadata', 'post_logout_redirect_uris: a redirect URI must use https (http only for localhost): javascript:alert(1)'],
    [{ client_name: '  ' }, 'invalid_client_metadata', 'client_name must not be empty'],
    [{ client_name: 42 }, 'invalid_client_metadata', 'client_name must be a string'],
    [{ kind: 'robot' }, 'invalid_client_metadata', 'kind must be one of web, spa, server, resource-server (got robot)'],
    [{ scope: 'openid teleport' }, 'invalid_client_metadata', 'scope: unknown scope "teleport": see the scope catalogue in the README'],
    [{ scope: 'openid auth-none' }, 'invalid_client_metadata', 'scope: a web client can never be granted auth-none: auth-none is for client credentials only'],
    [{ consent: 'never' }, 'invalid_client_metadata', 'consent must be one of prompt, skip (got never)'],
    [{ access_token_format: 'saml' }, 'invalid_client_metadata', 'access_token_format must be one of opaque, jwt (got saml)'],
    [{ restricted: 'yes' }, 'invalid_client_metadata', 'restricted must be a boolean'],
    [{ organizations: { dept: 'Physics' } }, 'invalid_client_metadata', 'organizations must be one of user_org, course_org (got dept)'],
    [{ logo_uri: 'http://portal.example.edu/logo.png' }, 'invalid_client_metadata', 'logo_uri must be an https URL: http://portal.example.edu/logo.png'],
    [{ policy_uri: 'ftp://portal.example.edu/privacy' }, 'invalid_client_metadata', 'policy_uri must be an https URL: ftp://portal.example.edu/privacy'],
    [{ backchannel_logout_uri: 'http://portal.example.edu/logout' }, 'invalid_client_metadata', 'backchannel_logout_uri: a back-channel logout URI must use https (http only for localhost): http://portal.example.edu/logout'],
    [{ token_endpoint_auth_method: 'none' }, 'invalid_client_metadata', 'token_endpoint_auth_method: a web client authenticates with client_secret_basic (got none)'],
    [{ grant_types: ['authorization_code', 'client_credentials'] }, 'invalid_client_metadata', 'grant_types: a web client has authorization_code, refresh_token (got client_credentials)'],
    [{ response_types: ['code id_token'] }, 'invalid_client_metadata', 'response_types: a web client has code (got code id_token)'],
    [{ application_type: 'native' }, 'invalid_client_metadata', 'application_type: only web is supported (got native)'],
    [{ client_name: 'Nul\u0000' }, 'invalid_client_metadata', 'client_name contains a NUL character'],
  ])('%j', async (overrides, error, description) => {
    const before = await countClients();
    const refused = await register(web, { client_name: 'Portal', kind: 'web', redirect_uris: [CB], ...overrides });
    expect(refused).toMatchObject({ status: 400, body: { error, error_description: description } });
    expect(await countClients()).toBe(before);
  });

  test.each([
    ['not JSON', '{"client_name":', 'application/json', 'the request body is not valid JSON'],
    ['a JSON array', '[]', 'application/json', 'the request body must be a JSON object of client metadata'],
    ['a form', 'client_name=x', 'application/x-www-form-urlencoded', 'the request body must be a JSON object of client metadata (Content-Type: application/json)'],
  ])('a body that is %s', async (_label, body, contentType, description) => {
    const refused = await send('POST', `${gh.url}/reg`, web, body, contentType);
    expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_client_metadata', error_description: description } });
  });
});

describe('initial access tokens', () => {
  test('an unknown, garbage or missing token gets 401 invalid_token (RFC 6750)', async () => {
    for (const token of ['x'.repeat(43), 'not a token at all']) {
      const bad = await fetch(`${gh.url}/reg`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
      expect(bad.status).toBe(401);
      expect(bad.headers.get('www-authenticate')).toBe('Bearer realm="registration", error="invalid_token"');
      expect(((await bad.json()) as { error: string }).error).toBe('invalid_token');
    }
    const missing = await send('POST', `${gh.url}/reg`, undefined, { client_name: 'X' });
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="registration"');
    expect(missing.body.error).toBe('invalid_token');
  });

  test('an expired token is refused even with good metadata; a token is single use by default, and a refused registration does not use it up', async () => {
    const once = await issueToken('--kind', 'web');
    expect((await register(once.initial_access_token, { client_name: 'P', redirect_uris: ['http://bad.example/cb'] })).status).toBe(400);
    expect((await register(once.initial_access_token, { client_name: 'P', redirect_uris: [CB] })).status).toBe(201);
    expect((await register(once.initial_access_token, { client_name: 'P', redirect_uris: [CB] }))).toMatchObject({ status: 401, body: { error: 'invalid_token' } });

    const expiring = await issueToken('--kind', 'web', '--uses', '5');
    await db()('registration_tokens').where({ id: expiring.id }).update({ expires_at: new Date(Date.now() - 1000) });
    expect((await register(expiring.initial_access_token, { client_name: 'P', redirect_uris: [CB] }))).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
  });

  test('--expires sets the expiry (24 hours without it) that expires_at prints and registration checks', async () => {
    const before = Date.now();
    const [hour, week, unsaid] = await Promise.all([issueToken('--kind', 'web', '--expires', '1h'), issueToken('--kind', 'web', '--expires', '7d'), issueToken('--kind', 'web')]);
    const after = Date.now();
    for (const [token, seconds] of [[hour, 3600], [week, 7 * 86400], [unsaid, 86400]] as const) {
      expect(Date.parse(token.expires_at)).toBeGreaterThanOrEqual(before + seconds * 1000);
      expect(Date.parse(token.expires_at)).toBeLessThanOrEqual(after + seconds * 1000);
    }
    const stored = await db()('registration_tokens').whereIn('id', [hour.id, week.id, unsaid.id]).select('id', 'expires_at');
    expect(Object.fromEntries(stored.map((row: { id: string; expires_at: Date }) => [row.id, row.expires_at.toISOString()])))
      .toEqual({ [hour.id]: hour.expires_at, [week.id]: week.expires_at, [unsaid.id]: unsaid.expires_at });
  });

  test('a registration whose audit record cannot be written registers nothing and does not use up its token', async () => {
    const once = (await issueToken('--kind', 'web')).initial_access_token;
    const before = { clients: await countClients(), registrations: await db()('client_registrations').count({ n: '*' }) };
    // The request's last write fails, as a constraint, a full disk or a lost connection would.
    await db().raw(`CREATE FUNCTION refuse_registration_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit log unavailable'; END $$;
      CREATE TRIGGER refuse_registration_audit BEFORE INSERT ON audit_events FOR EACH ROW WHEN (NEW.event = 'client.registered') EXECUTE FUNCTION refuse_registration_audit()`);
    let failed: Answer;
    try {
      failed = await register(once, { client_name: 'Unrecorded', redirect_uris: [CB] });
    } finally {
      await db().raw('DROP TRIGGER refuse_registration_audit ON audit_events; DROP FUNCTION refuse_registration_audit()');
    }
    expect(failed).toMatchObject({ status: 500, body: { error: 'server_error', error_description: 'the request could not be completed' } });
    expect({ clients: await countClients(), registrations: await db()('client_registrations').count({ n: '*' }) }).toEqual(before);
    expect((await register(once, { client_name: 'Recorded', redirect_uris: [CB] })).status).toBe(201);
  });

  test('a single-use token spent by concurrent registrations registers exactly one client', async () => {
    const once = (await issueToken('--kind', 'web')).initial_access_token;
    const before = await countClients();
    const answers = await Promise.all(Array.from({ length: 6 }, () => register(once, { client_name: 'Race', redirect_uris: [CB] })));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 401, 401, 401, 401, 401]);
    expect(await countClients()).toBe(before + 1);
  });

  test('tokens are stored as digests only, and the audit log names the token by its id, never its value', async () => {
    const issued = await issueToken('--kind', 'web');
    const registered = await register(issued.initial_access_token, { client_name: 'Audited', redirect_uris: [CB] });
    const access = registered.body.registration_access_token as string;
    const dump = JSON.stringify(await db().raw('SELECT (SELECT json_agg(t) FROM registration_tokens t) AS a, (SELECT json_agg(r) FROM client_registrations r) AS b, (SELECT json_agg(e) FROM audit_events e) AS c'));
    expect(dump).not.toContain(issued.initial_access_token);
    expect(dump).not.toContain(access);
    const events = await db()('audit_events').whereIn('event', ['registration_token.created', 'client.registered']).andWhere((q) => q.whereRaw("detail->>'token_id' = ?", [issued.id]).orWhere({ client_id: registered.body.client_id as string }));
    expect(events.map((e: { event: string; actor: string }) => [e.event, e.actor])).toEqual(expect.arrayContaining([
      ['registration_token.created', expect.stringMatching(/^cli:/)],
      ['client.registered', `registration_token:${issued.id}`],
    ]));
  });
});

describe('RFC 7592 management with the registration access token', () => {
  test('read, update (held to the same token), delete; another client\'s token is refused; a deleted client gets no token', async () => {
    const first = (await register(server, { client_name: 'Batch', scope: 'auth-none read' })).body;
    const other = (await register(server, { client_name: 'Other', scope: 'auth-none' })).body;
    const uri = first.registration_client_uri as string;
    const access = first.registration_access_token as string;

    const read = await send('GET', uri, access);
    expect(read).toMatchObject({ status: 200, body: { client_id: first.client_id, client_name: 'Batch', scope: 'auth-none read', registration_client_uri: uri } });
    expect(read.body).not.toHaveProperty('client_secret');
    expect(await send('GET', uri, other.registration_access_token as string)).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
    expect(await send('GET', uri, undefined)).toMatchObject({ status: 401 });

    const widened = await send('PUT', uri, access, { client_id: first.client_id, client_name: 'Batch', scope: 'auth-none read grades' });
    expect(widened).toMatchObject({ status: 400, body: { error: 'invalid_client_metadata', error_description: 'scope: grades not allowed by this initial access token (it allows auth-none read)' } });
    expect(await send('PUT', uri, access, { client_id: other.client_id, client_name: 'Batch' })).toMatchObject({ status: 400, body: { error_description: `client_id must be this client's id, ${first.client_id as string}` } });
    const updated = await send('PUT', uri, access, { client_id: first.client_id, client_name: 'Nightly batch', scope: 'auth-none', client_secret: first.client_secret });
    expect(updated).toMatchObject({ status: 200, body: { client_name: 'Nightly batch', scope: 'auth-none' } });
    expect(updated.body).not.toHaveProperty('client_secret');
    // The update answers with a new registration access token; the old one stops working.
    const renewed = updated.body.registration_access_token as string;
    expect(renewed).not.toBe(access);
    expect((await send('GET', uri, access)).status).toBe(401);
    // The secret is kept, and the narrowed scopes apply at once.
    const credentials = first as { client_id: string; client_secret: string };
    expect((await clientCredentials(gh.url, credentials, { scope: 'read' })).body.error).toBe('invalid_scope');
    expect((await clientCredentials(gh.url, credentials, { scope: 'auth-none' })).status).toBe(200);

    // A registration access token expires (30 days; each update renews it).
    await db()('client_registrations').where({ client_id: other.client_id as string }).update({ access_expires_at: new Date(Date.now() - 1000) });
    expect(await send('GET', other.registration_client_uri as string, other.registration_access_token as string)).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
    expect(await send('DELETE', uri, other.registration_access_token as string)).toMatchObject({ status: 401 });
    expect((await send('DELETE', uri, renewed)).status).toBe(204);
    expect((await send('GET', uri, renewed)).status).toBe(401);
    const refused = await clientCredentials(gh.url, credentials, { scope: 'auth-none' });
    expect(refused).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    // Each names who did it: the initial access token the client was registered with, by its id.
    const events = await db()('audit_events').where({ client_id: first.client_id as string }).orderBy('id').select('event', 'actor');
    const actor = events[0]?.actor as string;
    expect(actor).toMatch(/^registration_token:[0-9a-f]{16}$/);
    expect(events).toEqual(['client.registered', 'client.updated', 'client.deleted'].map((event) => ({ event, actor })));
  });
});

test('the CLI refuses with the same rule, naming its flag', async () => {
  const refused = await gatehouse(['clients', 'create', '--name', 'P', '--kind', 'web', '--redirect-uri', CB, '--policy-uri', 'ftp://portal.example.edu/privacy'], env);
  expect(refused).toMatchObject({ code: 2, stderr: 'gatehouse: --policy-uri must be an https URL: ftp://portal.example.edu/privacy\n' });
});

describe('gatehouse registration-token create: bad flags', () => {
  test.concurrent.each([
    [[], 'gatehouse: registration-token create needs --kind (web|spa|server|resource-server), once per kind it allows\n'],
    [['--kind', 'robot'], 'gatehouse: --kind must be one of web, spa, server, resource-server (got robot)\n'],
    [['--kind', 'web', '--expires', '10x'], 'gatehouse: --expires takes a duration from 1m to 30d, such as 30m, 24h or 7d (got 10x)\n'],
    [['--kind', 'web', '--expires', '90d'], 'gatehouse: --expires takes a duration from 1m to 30d, such as 30m, 24h or 7d (got 90d)\n'],
    [['--kind', 'web', '--uses', '0'], 'gatehouse: --uses takes how many clients the token may register, from 1 to 999999 (got 0)\n'],
    [['--kind', 'web', '--org', 'dept=Physics'], 'gatehouse: --org must be one of user_org, course_org (got dept)\n'],
    [['--kind', 'web', '--scopes', 'openid teleport'], 'gatehouse: --scopes: unknown scope "teleport": see the scope catalogue in the README\n'],
    [['--kind', 'web', '--kind', 'spa', '--scopes', 'openid auth-none'], 'gatehouse: --scopes: no web or spa client can ever be granted auth-none\n'],
  ])('%j', async (args, stderr) => {
    const before = await db()('registration_tokens').count<{ count: string }[]>('* as count');
    expect(await gatehouse(['registration-token', 'create', ...args, '--json'], env)).toEqual({ code: 2, stdout: '', stderr });
    expect(await db()('registration_tokens').count<{ count: string }[]>('* as count')).toEqual(before);
  });
});

describe('on the embedded database, with the server running', () => {
  let embedded: RunningGatehouse;
  beforeAll(async () => {
    embedded = await startGatehouse({ database: 'embedded', redis: false });
  });
  afterAll(() => embedded.close());

  test('the CLI issues a token, and registration, update and deletion work as on Postgres', async () => {
    const run = await gatehouse(['registration-token', 'create', '--kind', 'server', '--scopes', 'auth-none read', '--json'], { DATA_DIR: (embedded.config.database as { dataDir: string }).dataDir });
    expect(run.code).toBe(0);
    const token = (JSON.parse(run.stdout) as { initial_access_token: string }).initial_access_token;
    const registered = (await send('POST', `${embedded.url}/reg`, token, { client_name: 'Batch', scope: 'auth-none read' })).body;
    expect(registered).toMatchObject({ kind: 'server', scope: 'auth-none read' });
    expect((await clientCredentials(embedded.url, registered as { client_id: string; client_secret: string }, { scope: 'read' })).status).toBe(200);
    const uri = registered.registration_client_uri as string;
    const updated = await send('PUT', uri, registered.registration_access_token as string, { client_id: registered.client_id, client_name: 'Batch', scope: 'auth-none' });
    expect(updated).toMatchObject({ status: 200, body: { scope: 'auth-none' } });
    expect((await send('DELETE', uri, updated.body.registration_access_token as string)).status).toBe(204);
    expect((await send('POST', `${embedded.url}/reg`, token, { client_name: 'Again', scope: 'read' })).status).toBe(401);
  });
});
