import type { Context } from 'koa';
import { renderPage } from '../pages.ts';
import { originOf } from '../security_headers.ts';
import type { Messages } from '../i18n/messages.ts';

/**
 * Renders an interaction page. Forms may post only to this origin and, because the answer
 * redirects there, to the origin the browser is sent back to (CSP form-action covers redirects).
 */
export async function renderInteractionPage(
  ctx: Context,
  view: 'login' | 'consent' | 'logout' | 'logged_out',
  messages: Messages,
  data: Record<string, unknown> & { title: string },
  returnTo?: unknown,
  status = 200,
): Promise<void> {
  ctx.state.formActionOrigins = originOf(returnTo);
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = await renderPage(view, messages, data);
}

/** A client's logo, policy or terms is linked only from an https URL; anything else (javascript:, data:, http:) is dropped. */
export function safeHttpsUri(uri: unknown): string | undefined {
  if (typeof uri !== 'string') return undefined;
  try {
    return new URL(uri).protocol === 'https:' ? uri : undefined;
  } catch {
    return undefined;
  }
}
