import type { Provider } from 'oidc-provider';
import type { Stores } from '../storage/adapter_router.ts';
import { grantsOf, type AccountGrant } from '../storage/grants.ts';
import { lastUsesOf } from '../storage/grant_use.ts';
import { safeHttpsUri } from '../interactions/pages.ts';
import type { Messages } from '../i18n/messages.ts';
import { ACCOUNT_PAGE_CLIENT_ID } from './page_client.ts';

/** One application the person allowed, as "Your apps" shows it. */
export interface YourApp {
  clientId: string;
  name: string;
  logoUri: string | undefined;
  scopes: { name: string; description: string }[];
  approvedAt: Date;
  /** The last token issued to it from this person's grant (a code redeemed, a refresh); undefined if none yet. */
  lastUsedAt: Date | undefined;
  offline: boolean;
}

/**
 * The person's unexpired grants (the same listing as `gatehouse grants list`), one entry per
 * application however many grants it holds, by name. The account page's own sign-in is no app.
 */
export async function yourApps(
  deps: { provider: Provider; stores: Stores; describeScope(name: string, messages: Messages): Promise<string> },
  accountId: string,
  messages: Messages,
): Promise<YourApp[]> {
  const grants = (await grantsOf(deps.stores.db, accountId)).filter((grant) => grant.clientId !== ACCOUNT_PAGE_CLIENT_ID);
  const lastUses = await lastUsesOf(deps.stores.db, grants.map((grant) => grant.grantId));
  const byClient = new Map<string, AccountGrant[]>();
  for (const grant of grants) byClient.set(grant.clientId, [...(byClient.get(grant.clientId) ?? []), grant]);
  const apps = await Promise.all([...byClient].map(async ([clientId, ofClient]): Promise<YourApp> => {
    const client = await deps.provider.Client.find(clientId).catch(() => undefined);
    const scopes = [...new Set(ofClient.flatMap((grant) => grant.scopes))];
    const uses = ofClient.map((grant) => lastUses.get(grant.grantId)).filter((at): at is Date => at !== undefined);
    return {
      clientId,
      name: client?.clientName ?? clientId,
      logoUri: safeHttpsUri(client?.logoUri),
      scopes: await Promise.all(scopes.map(async (name) => ({ name, description: await deps.describeScope(name, messages) }))),
      approvedAt: new Date(Math.min(...ofClient.map((grant) => grant.createdAt.getTime()))),
      lastUsedAt: uses.length ? new Date(Math.max(...uses.map((at) => at.getTime()))) : undefined,
      offline: scopes.includes('offline_access'),
    };
  }));
  return apps.sort((a, b) => a.name.localeCompare(b.name));
}
