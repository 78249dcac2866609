import type { Context } from 'koa';
import { MetadataError } from '../policy/registration_metadata.ts';

/**
 * The bearer token of the request (RFC 6750 §2.1), or undefined when it sent no Authorization
 * header. A malformed header is returned whole: as a token it opens nothing.
 */
export function bearerToken(ctx: Context): string | undefined {
  const header = ctx.get('authorization');
  if (!header) return undefined;
  return /^Bearer ([\x21-\x7E]+)$/i.exec(header)?.[1] ?? header;
}

/** 401 with RFC 6750's challenge: its error code only when a token was presented (§3.1). */
export function refuseToken(ctx: Context, presented: boolean, description: string): void {
  ctx.status = 401;
  ctx.set('WWW-Authenticate', `Bearer realm="registration"${presented ? ', error="invalid_token"' : ''}`);
  ctx.body = { error: 'invalid_token', error_description: description };
}

// Client metadata is a few hundred bytes; a few dozen redirect URIs stay far below this.
const MAX_BODY_BYTES = 64 * 1024;

/** The JSON body of a registration or an update; a MetadataError for anything else. */
export async function readJson(ctx: Context): Promise<unknown> {
  if (!ctx.is('application/json')) throw new MetadataError('the request body must be a JSON object of client metadata (Content-Type: application/json)');
  const chunks: Buffer[] = [];
  let size = 0;
  // Not destroyed when the loop stops early, which would drop the connection with the refusal unsent.
  for await (const chunk of ctx.req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) break;
    chunks.push(chunk);
  }
  if (size > MAX_BODY_BYTES) {
    // The rest is read and dropped (once the loop has let go of the stream): a client still
    // sending gets the answer, rather than a full socket and then a reset connection.
    ctx.req.resume();
    throw new MetadataError(`the request body is over ${MAX_BODY_BYTES / 1024} KiB`);
  }
  let text: string;
  try {
    // Fatal: bytes that are not UTF-8 would otherwise become U+FFFD in a stored name.
    text = UTF8.decode(Buffer.concat(chunks));
  } catch {
    throw new MetadataError('the request body is not UTF-8');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new MetadataError('the request body is not valid JSON');
  }
  // Postgres can store no NUL and no lone surrogate (a JSON escape such as \ud800) in a text or
  // jsonb value: either would fail the insert with a 500. No real client metadata has one.
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    for (const [field, value] of Object.entries(body)) {
      const problem = unstorable(value);
      if (problem) throw new MetadataError(`${field} contains ${problem}`);
    }
  }
  return body;
}

/**
 * What Postgres could not store in any string of a value, or undefined. A loop, not recursion:
 * 64 KiB of JSON nests 30,000 deep, past the call stack.
 */
function unstorable(value: unknown): string | undefined {
  const pending = [value];
  while (pending.length) {
    const item = pending.pop();
    if (typeof item === 'string') {
      if (item.includes('\u0000')) return 'a NUL character';
      if (/\p{Cs}/u.test(item)) return 'a lone surrogate (\\ud800-\\udfff), which is no character';
    } else if (item !== null && typeof item === 'object') {
      pending.push(...Object.values(item));
    }
  }
  return undefined;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
