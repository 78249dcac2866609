import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from './listen.ts';
import { pollUntil } from './poll.ts';
import { startProcess } from './server_process.ts';

/** Debian's Python, which has Debian's Django packages (a `python3` first in PATH may not). */
const PYTHON = process.env.DJANGO_PYTHON ?? '/usr/bin/python3';
/** The Django project the test runs: test/interop/django_rs (settings, URLs, DRF views). */
const PROJECT = fileURLToPath(new URL('../interop/django_rs', import.meta.url));

export interface DjangoResponse {
  status: number;
  wwwAuthenticate: string | null;
  body: Record<string, unknown>;
}

export interface DjangoResourceServer {
  url: string;
  /** A request with a bearer token in the Authorization header, and a JSON body if given. */
  call(method: string, path: string, accessToken?: string, body?: unknown): Promise<DjangoResponse>;
  close(): Promise<void>;
}

export interface DjangoOptions {
  /** Gatehouse's introspection endpoint, `${ISSUER}/token/introspection`. */
  introspectionUrl: string;
  /** The API's own `resource-server` client at Gatehouse. */
  credentials: { client_id: string; client_secret: string };
  /** OAUTH2_PROVIDER RESOURCE_SERVER_TOKEN_CACHING_SECONDS. */
  cachingSeconds: number;
}

/**
 * The Django project under gunicorn, as Debian packages it (python3-django-oauth-toolkit,
 * python3-djangorestframework, python3-gunicorn), on a free loopback port, over a fresh SQLite
 * database in a temporary directory.
 */
export async function startDjangoResourceServer(options: DjangoOptions): Promise<DjangoResourceServer> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-django-'));
  const env = {
    PYTHONDONTWRITEBYTECODE: '1',
    DJANGO_SECRET_KEY: randomBytes(24).toString('hex'),
    DJANGO_DATABASE: join(dir, 'db.sqlite3'),
    GATEHOUSE_INTROSPECTION_URL: options.introspectionUrl,
    GATEHOUSE_CLIENT_ID: options.credentials.client_id,
    GATEHOUSE_CLIENT_SECRET: options.credentials.client_secret,
    TOKEN_CACHING_SECONDS: String(options.cachingSeconds),
  };
  try {
    await promisify(execFile)(PYTHON, ['manage.py', 'migrate', '--verbosity', '0'], { cwd: PROJECT, env: { PATH: process.env.PATH ?? '', ...env } });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`Django's migrate failed (apt-get install python3-django-oauth-toolkit python3-djangorestframework python3-gunicorn): ${String(error)}`);
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const gunicorn = startProcess(env, [PYTHON, '-m', 'gunicorn', '--chdir', PROJECT, '--bind', `127.0.0.1:${port}`, '--workers', '1', 'courses.wsgi']);
  const close = async () => {
    gunicorn.kill();
    await rm(dir, { recursive: true, force: true });
  };
  const call = async (method: string, path: string, accessToken?: string, body?: unknown): Promise<DjangoResponse> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, wwwAuthenticate: response.headers.get('www-authenticate'), body: (await response.json()) as Record<string, unknown> };
  };
  const answers = () => call('GET', '/courses').then(() => true, () => false);
  const up = await pollUntil(answers, (ok) => ok || gunicorn.child.exitCode !== null, 20_000, 100);
  if (!up) {
    await close();
    throw new Error(`gunicorn did not start:\n${gunicorn.stderr()}`);
  }
  return { url, call, close };
}
