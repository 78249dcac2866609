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
  const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  // No field of ours may hold a NUL: Postgres could not look it up (or store it), and no
  // person types one.
  for (const [name, value] of form) {
    if (value.includes('\u0000')) throw new errors.InvalidRequest(`${name} contains a NUL character`);
  }
  return form;
}
