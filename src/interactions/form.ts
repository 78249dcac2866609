import type { Context } from 'koa';
import { errors } from 'oidc-provider';

// A login or consent form is a few short fields.
const MAX_FORM_BYTES = 16 * 1024;

/** Reads an application/x-www-form-urlencoded body (the only kind our pages post). */
export async function readForm(ctx: Context): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) throw new errors.InvalidRequest('expected a form submission');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new errors.InvalidRequest('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
