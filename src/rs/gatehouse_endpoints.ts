import { ResourceServerError } from './errors.ts';

/** What the kit needs from the issuer's discovery document. */
export interface Endpoints {
  introspection: string;
  jwks: string;
  /** Gatehouse's JWKS of restricted applications' tokens (`restricted_jwks_uri`). */
  restrictedJwks: string | undefined;
}

/** Gatehouse not answering, or answering nonsense, is an outage for the resource server: 503. */
export function unavailable(what: string, cause?: unknown): ResourceServerError {
  return new ResourceServerError('temporarily_unavailable', `${what}; try again shortly`, { cause });
}

/** A request to Gatehouse that gives up after `timeoutMs`. */
export async function fetchJson(url: string, init: RequestInit, timeoutMs: number, what: string): Promise<{ status: number; body: Record<string, unknown> }> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
    const body = (await response.json()) as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new TypeError('not a JSON object');
    return { status: response.status, body: body as Record<string, unknown> };
  } catch (error) {
    throw unavailable(`${what} did not answer`, error);
  }
}

/**
 * The endpoints of `issuer`, from its OpenID discovery document; the document must name that
 * issuer exactly (OpenID Connect Discovery section 4.3), so a look-alike cannot hand out its own.
 */
export async function discoverEndpoints(issuer: string, timeoutMs: number): Promise<Endpoints> {
  const { status, body } = await fetchJson(`${issuer}/.well-known/openid-configuration`, {}, timeoutMs, 'the issuer\'s discovery document');
  const url = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : undefined);
  if (status !== 200 || body.issuer !== issuer || !url('introspection_endpoint') || !url('jwks_uri')) {
    throw unavailable(`the issuer's discovery document (${status}) does not describe ${issuer}`);
  }
  return { introspection: url('introspection_endpoint')!, jwks: url('jwks_uri')!, restrictedJwks: url('restricted_jwks_uri') };
}
