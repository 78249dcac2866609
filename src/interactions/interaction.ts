import type { Provider } from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { Context } from 'koa';
import { explained } from '../i18n/explained_error.ts';

export type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

/**
 * The interaction of this browser, and only if it is the one the URL names. oidc-provider finds
 * it from the cookie alone; a URL for another interaction must not act on this one.
 */
export async function currentInteraction(provider: Provider, ctx: Context): Promise<InteractionDetails> {
  let details: InteractionDetails;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (error) {
    if (error instanceof errors.SessionNotFound) throw explained(new errors.InvalidRequest('this sign-in has expired or was opened in another browser; start again from the application'), 'error.signInExpired');
    throw error;
  }
  if (details.uid !== ctx.params.uid) {
    throw explained(new errors.InvalidRequest('this page does not belong to your current sign-in; start again from the application'), 'error.otherSignIn');
  }
  return details;
}

/** The client the interaction is for. */
export async function interactionClient(provider: Provider, details: InteractionDetails) {
  const client = await provider.Client.find(String(details.params.client_id));
  if (!client) throw new errors.InvalidClient('the application is no longer registered');
  return client;
}
