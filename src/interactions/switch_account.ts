import type { Provider } from 'oidc-provider';
import { endSession } from '../provider/end_session.ts';
import type { InteractionDetails } from './interaction.ts';

const SWITCHING_ACCOUNT = 'switching_account';

/**
 * True at the login step that follows "Not you?": a CAS login then asks for the password again
 * (renew), or CAS's single sign-on session would sign the same person straight back in.
 */
export function switchingAccount(details: InteractionDetails): boolean {
  return details.prompt.reasons.includes(SWITCHING_ACCOUNT);
}

/**
 * "Not you?" on the consent page: signs the person out, as Sign out would (back-channel
 * logout, the session's tokens gone), and turns this authorization request back to its login
 * step, so that whoever signs in next gets the client's answer for this same request (its
 * state, nonce and PKCE challenge). The interaction forgets the session it was opened in, which
 * oidc-provider's resume would otherwise require, and the consent and grant found for it.
 */
export async function signOutAndAskWhoSignsIn(provider: Provider, ctx: unknown, details: InteractionDetails): Promise<void> {
  const session = details.session?.uid ? await provider.Session.findByUid(details.session.uid) : undefined;
  if (session?.accountId) await endSession(provider, ctx, session);
  delete details.session;
  delete details.grantId;
  delete details.lastSubmission;
  delete details.result;
  details.prompt = { name: 'login', reasons: [SWITCHING_ACCOUNT], details: {} };
  await details.save(details.exp - Math.floor(Date.now() / 1000));
}
