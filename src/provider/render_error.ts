import type { KoaContextWithOIDC } from 'oidc-provider';
import { renderPage } from '../pages.ts';

/** Errors for a browser (e.g. an unregistered redirect_uri): a page on the provider, never a redirect. */
export async function renderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }): Promise<void> {
  ctx.type = 'html';
  ctx.body = await renderPage('error', {
    title: 'Something went wrong',
    error: out.error,
    description: out.error_description ?? '',
  });
}
