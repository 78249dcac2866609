import { request } from 'node:http';

/** Small helpers to talk to Gatehouse over real HTTP as a client would. */
export function basic(clientId: string, secret: string): string {
  // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

export async function postForm(url: string, form: Record<string, string>, authorization?: string): Promise<JsonResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
    body: new URLSearchParams(form),
  });
  return toJson(response);
}

export async function toJson(response: Response): Promise<JsonResponse> {
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not JSON: the test asserting on `body` will say so.
  }
  return { status: response.status, headers: response.headers, body, text };
}

/**
 * A client credentials grant (RFC 6749 §4.4) at the token endpoint, with the client's id and
 * secret as HTTP Basic, or with the Authorization header given instead.
 */
export function clientCredentials(issuer: string, client: { client_id: string; client_secret: string } | string, params: Record<string, string> = {}): Promise<JsonResponse> {
  const authorization = typeof client === 'string' ? client : basic(client.client_id, client.client_secret);
  return postForm(`${issuer}/token`, { grant_type: 'client_credentials', ...params }, authorization);
}

/** The access token a client credentials grant gives `client` for `scope`; anything else fails the test with Gatehouse's answer. */
export async function clientCredentialsToken(issuer: string, client: { client_id: string; client_secret: string }, scope: string): Promise<string> {
  const response = await clientCredentials(issuer, client, { scope });
  if (response.status !== 200) throw new Error(`token request answered ${response.status}: ${response.text}`);
  return String(response.body.access_token);
}

/** RFC 7662 introspection, authenticated as `resourceServer`, as a resource server calls it. */
export function introspect(issuer: string, token: string, resourceServer: { client_id: string; client_secret: string }): Promise<JsonResponse> {
  return postForm(`${issuer}/token/introspection`, { token }, basic(resourceServer.client_id, resourceServer.client_secret));
}

export interface RawResponse {
  status: number;
  location: string | undefined;
  setCookies: string[];
  text: string;
}

/**
 * A request with headers fetch will not send as given (Host), as a proxy or an attacker's
 * client sends them. No redirects are followed.
 */
export function rawRequest(url: string, headers: Record<string, string>, body?: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: body === undefined ? 'GET' : 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, location: res.headers.location, setCookies: res.headers['set-cookie'] ?? [], text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
