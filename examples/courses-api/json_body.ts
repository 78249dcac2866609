import type { Context } from 'koa';
import type { z } from 'zod';

// Courses and grades are a few short strings; anything bigger is a mistake or an attack.
const MAX_BODY_BYTES = 16 * 1024;

export class BadRequest extends Error {}

/** The request's JSON body, checked against `schema`; BadRequest says what is wrong. */
export async function jsonBody<T>(ctx: Context, schema: z.ZodType<T>): Promise<T> {
  if (!ctx.is('application/json')) throw new BadRequest('send the body as application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BadRequest(`the body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BadRequest('the body is not JSON');
  }
  const result = schema.safeParse(parsed);
  if (!result.success) throw new BadRequest(result.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '));
  return result.data;
}
