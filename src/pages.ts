import { fileURLToPath } from 'node:url';
import ejs from 'ejs';
import type { Context } from 'koa';

const VIEWS = fileURLToPath(new URL('../views/', import.meta.url));

/** Renders views/NAME.ejs inside views/layout.ejs. EJS escapes every `<%= %>` value. */
export async function renderPage(name: string, data: Record<string, unknown> & { title: string }): Promise<string> {
  const body = await ejs.renderFile(`${VIEWS}${name}.ejs`, data, { async: true, cache: true });
  return ejs.renderFile(`${VIEWS}layout.ejs`, { ...data, body }, { async: true, cache: true });
}

/**
 * The error page, for oidc-provider's errors (its renderError hook: an unregistered redirect_uri
 * gets a page on the provider, never a redirect) and for Gatehouse's own routes alike.
 */
export async function renderErrorPage(ctx: Context, out: { error: string; error_description?: string | undefined }): Promise<void> {
  ctx.type = 'html';
  ctx.body = await renderPage('error', { title: 'Something went wrong', error: out.error, description: out.error_description ?? '' });
}
