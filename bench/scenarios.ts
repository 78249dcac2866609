import type { BenchClients } from './gatehouse_target.ts';
import type { RegisteredClient } from '../test/support/clients.ts';
import { basic } from '../test/support/http.ts';
import type { HttpRequest } from './load.ts';

export interface PreparedScenario {
  request: HttpRequest;
  /** Throws unless the request, sent once, gets the answer being benchmarked. */
  check(): Promise<void>;
}

export interface Scenario {
  name: string;
  prepare(url: string, clients: BenchClients): Promise<PreparedScenario>;
}

/** A client credentials grant for `read`, as the server client (an opaque token). */
export const clientCredentials: Scenario = {
  name: 'client credentials',
  prepare: async (url, clients) => {
    const request = readTokenRequest(clients.server);
    return {
      request,
      check: async () => {
        const body = await send(url, request);
        if (typeof body.access_token !== 'string' || body.access_token.includes('.') || body.token_type !== 'Bearer' || body.scope !== 'read') {
          throw new Error(`client credentials: not an opaque Bearer token for read: ${JSON.stringify(body)}`);
        }
      },
    };
  },
};

/**
 * Introspection of one opaque client credentials token, as the resource server, which names the
 * token type (RFC 7662 token_type_hint) as a resource server knows it: an access token.
 */
export const introspection: Scenario = {
  name: 'introspection',
  prepare: async (url, clients) => {
    // Issued now, on the target itself: the baseline's memory store holds only the last 1000 entries.
    const issued = await send(url, readTokenRequest(clients.server));
    const request = introspectionOf(String(issued.access_token), clients.resourceServer);
    return {
      request,
      check: async () => {
        const body = await send(url, request);
        if (body.active !== true || body.client_id !== clients.server.client_id) {
          throw new Error(`introspection: the token is not reported active: ${JSON.stringify(body)}`);
        }
      },
    };
  },
};

/** A client credentials grant for `read`. */
function readTokenRequest(client: RegisteredClient): HttpRequest {
  return form('/token', { grant_type: 'client_credentials', scope: 'read' }, client);
}

/** An introspection request for an access token, as a resource server sends it. */
export function introspectionOf(token: string, resourceServer: RegisteredClient): HttpRequest {
  return form('/token/introspection', { token, token_type_hint: 'access_token' }, resourceServer);
}

function form(path: string, params: Record<string, string>, client: RegisteredClient): HttpRequest {
  return {
    path,
    headers: { authorization: basic(client.client_id, client.client_secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  };
}

// A check that hangs must fail the bench rather than stall it.
const CHECK_TIMEOUT_MS = 10_000;

export async function send(url: string, request: HttpRequest): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}${request.path}`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
    signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST ${request.path}: HTTP ${response.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}
