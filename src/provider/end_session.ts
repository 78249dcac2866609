import type { Client, Provider } from 'oidc-provider';

export type Session = NonNullable<Awaited<ReturnType<Provider['Session']['findByUid']>>>;
/** oidc-provider's Client has this method (lib/models/client.js); its types leave it out. */
type NotifiableClient = Client & { backchannelLogout(sub: string, sid: string | undefined): Promise<void> };

/**
 * Ends a person's session without their browser (CAS single logout) as oidc-provider's "Sign
 * out" does (lib/actions/end_session.js, with logout=yes): a logout token to every application of
 * the session that registered a back-channel logout URI, then the session destroyed, and with it
 * every token bound to it (all but offline_access ones: oidc-provider's expiresWithSession).
 * oidc-provider offers no public call for it (its end_session works on the browser's cookie),
 * hence this minimal copy. It leaves out end_session's revocation of the session's other grants,
 * whose only remaining effect would be to forget the consent given. It emits the same
 * backchannel events, so delivery is logged in one place.
 */
export async function endSession(provider: Provider, ctx: unknown, session: Session): Promise<void> {
  const accountId = session.accountId!;
  const authorizations = Object.entries(session.authorizations ?? {});
  await Promise.all(authorizations.map(([clientId, { sid }]) => notifyBackchannel(provider, ctx, clientId, accountId, sid)));
  await session.destroy();
}

/**
 * Posts a logout token for the person (and session, when `sid` is given) to the client's
 * back-channel logout URI, if it registered one. Never fails: delivery is logged through
 * oidc-provider's backchannel events (src/provider/backchannel_logout.ts).
 */
export async function notifyBackchannel(provider: Provider, ctx: unknown, clientId: string, accountId: string, sid: string | undefined): Promise<void> {
  const client = await clientOrNothing(provider, clientId);
  if (!client?.backchannelLogoutUri) return;
  await (client as NotifiableClient).backchannelLogout(accountId, sid).then(
    () => provider.emit('backchannel.success', ctx, client, accountId, sid),
    (error: unknown) => provider.emit('backchannel.error', ctx, error, client, accountId, sid),
  );
}

/** A client deleted (or no longer valid) since the sign-in is no one to notify. */
async function clientOrNothing(provider: Provider, clientId: string): Promise<Client | undefined> {
  try {
    return await provider.Client.find(clientId);
  } catch {
    return undefined;
  }
}
