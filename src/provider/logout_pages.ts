import type { KoaContextWithOIDC } from 'oidc-provider';
import { renderInteractionPage } from '../interactions/pages.ts';
import { pageMessages } from '../i18n/page_messages.ts';

/** RP-initiated logout asks before it signs the person out (a link alone must not end a session). */
export async function logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void> {
  const messages = pageMessages(ctx, ctx.oidc.params?.ui_locales);
  await renderInteractionPage(ctx, 'logout', messages, {
    title: messages.t('logout.title'),
    // oidc-provider's own form: action and xsrf token, no script. The buttons submit it.
    form,
    clientName: ctx.oidc.client?.clientName ?? '',
  }, ctx.oidc.params?.post_logout_redirect_uri);
}

export async function postLogoutSuccessSource(ctx: KoaContextWithOIDC): Promise<void> {
  const messages = pageMessages(ctx, ctx.oidc.params?.ui_locales);
  await renderInteractionPage(ctx, 'logged_out', messages, { title: messages.t('loggedOut.title'), clientName: ctx.oidc.client?.clientName ?? '' });
}
