import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { registerClient } from '../support/clients.ts';
import { startGatehouse } from '../support/gatehouse.ts';
import { clientCredentialsToken } from '../support/http.ts';

/**
 * gatehouse/rs as another project gets it: Gatehouse packed (`npm pack`, whose prepack builds
 * the kit to JavaScript and declarations) and installed from the tarball. Node refuses to strip
 * types inside node_modules, so this fails if the kit ships as TypeScript sources.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
// `node` and `npm` on PATH: the project's Node 24, as a consumer's own Node. Run under `npm test`,
// the environment holds npm's settings for this checkout (npm_config_local_prefix and the like):
// they are dropped, so the consumer's npm works on the consumer's project only.
const env = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_'))),
  PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
  npm_config_prefer_offline: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
};
const version = async (name: string) => (JSON.parse(await readFile(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

let dir: string;
let consumer: string;
let packed: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gh-rs-pack-'));
  const { stdout } = await run('npm', ['pack', '--pack-destination', dir, '--json'], { cwd: ROOT, env });
  const [pack] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  packed = pack!.files.map((file) => file.path);
  consumer = join(dir, 'consumer');
  await mkdir(consumer);
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'courses-service', private: true, type: 'module' }));
  // The same versions as the checkout's, so npm's cache serves them.
  const deps = [`koa@${await version('koa')}`, `@types/koa@${await version('@types/koa')}`, `@types/node@${await version('@types/node')}`];
  await run('npm', ['install', '--ignore-scripts', join(dir, pack!.filename), ...deps], { cwd: consumer, env });
}, 120_000);

afterAll(() => rm(dir, { recursive: true, force: true }));

test('the tarball holds the kit as JavaScript with declarations, and none of its TypeScript sources', () => {
  expect(packed).toEqual(expect.arrayContaining(['dist/rs/index.js', 'dist/rs/index.d.ts', 'dist/rs/protect.js']));
  expect(packed.filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'))).toEqual([]);
});

test('an installed project imports protect from gatehouse/rs and its koa app answers RFC 6750', async () => {
  await writeFile(join(consumer, 'server.js'), `
    import Koa from 'koa';
    import { protect } from 'gatehouse/rs';
    const app = new Koa();
    app.use(protect({ issuer: 'http://127.0.0.1:9', clientId: 'api', clientSecret: 'secret' }));
    const server = app.listen(0, '127.0.0.1', async () => {
      const response = await fetch('http://127.0.0.1:' + server.address().port + '/courses');
      console.log(JSON.stringify({ status: response.status, challenge: response.headers.get('www-authenticate') }));
      server.close();
    });
  `);
  const { stdout } = await run('node', ['server.js'], { cwd: consumer, env });
  expect(JSON.parse(stdout)).toEqual({ status: 401, challenge: 'Bearer' });
});

test('the installed kit validates Gatehouse\'s tokens: an opaque one by introspection, a JWT with the JWKS, scopes per method', async () => {
  const gh = await startGatehouse({ database: 'postgres' });
  try {
    const db = gh.services.database.knex;
    const rs = await registerClient(db, { name: 'Courses API', kind: 'resource-server' });
    const opaque = await registerClient(db, { name: 'Sync', kind: 'server', scopes: 'auth-none read' });
    const jwt = await registerClient(db, { name: 'JWT sync', kind: 'server', scopes: 'auth-none read', 'access-token-format': 'jwt' });
    await writeFile(join(consumer, 'validate.js'), `
      import Koa from 'koa';
      import { protect } from 'gatehouse/rs';
      const app = new Koa();
      app.use(protect({ issuer: process.env.ISSUER, clientId: process.env.RS_ID, clientSecret: process.env.RS_SECRET }));
      app.use((ctx) => { ctx.body = { clientId: ctx.state.auth.clientId, scopes: ctx.state.auth.scopes }; });
      const server = app.listen(0, '127.0.0.1', async () => {
        const answers = [];
        for (const [method, token] of [['GET', process.env.OPAQUE], ['POST', process.env.OPAQUE], ['GET', process.env.JWT]]) {
          const response = await fetch('http://127.0.0.1:' + server.address().port + '/courses', { method, headers: { authorization: 'Bearer ' + token } });
          answers.push({ status: response.status, body: await response.json() });
        }
        console.log(JSON.stringify(answers));
        server.close();
      });
    `);
    const tokens = { OPAQUE: await clientCredentialsToken(gh.url, opaque, 'auth-none read'), JWT: await clientCredentialsToken(gh.url, jwt, 'auth-none read') };
    expect(tokens.JWT.split('.')).toHaveLength(3);
    const { stdout } = await run('node', ['validate.js'], { cwd: consumer, env: { ...env, ISSUER: gh.url, RS_ID: rs.client_id, RS_SECRET: rs.client_secret, ...tokens } });
    expect(JSON.parse(stdout)).toEqual([
      { status: 200, body: { clientId: opaque.client_id, scopes: ['auth-none', 'read'] } },
      { status: 403, body: expect.objectContaining({ error: 'insufficient_scope', scope: 'create' }) },
      { status: 200, body: { clientId: jwt.client_id, scopes: ['auth-none', 'read'] } },
    ]);
  } finally {
    await gh.close();
  }
});

test('its declarations type-check a consumer\'s TypeScript', async () => {
  await writeFile(join(consumer, 'api.ts'), `
    import { protect, requireScopes, type Auth } from 'gatehouse/rs';
    export const guard = protect({ issuer: 'https://login.example.edu', clientId: 'api', clientSecret: 'secret', methodScopes: { GET: 'grades' } });
    export const registrar = requireScopes('grades');
    export const orgs = (auth: Auth): readonly string[] | undefined => auth.filters.course_org;
  `);
  await writeFile(join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', strict: true, noEmit: true, types: ['node'] }, files: ['api.ts'] }));
  await expect(run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', '.'], { cwd: consumer, env })).resolves.toBeDefined();
});
