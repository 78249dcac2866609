import { registerClient, type RegisteredClient } from './clients.ts';
import { startCasServer, type CasServer } from './cas_server.ts';
import { startGatehouse, type RunningGatehouse } from './gatehouse.ts';
import { relyingParty, type RelyingParty } from './relying_party.ts';

export interface CasPortal {
  gh: RunningGatehouse;
  cas: CasServer;
  /** A web client trusted to skip the consent page, redirecting to `callback`. */
  web: RegisteredClient;
  portal: RelyingParty;
  close(): Promise<void>;
}

/** Gatehouse (Postgres, Redis) signing people in through a CAS server of the test's own, with one portal as its relying party. */
export async function startCasPortal(callback: string, scopes: string): Promise<CasPortal> {
  const cas = await startCasServer();
  const gh = await startGatehouse({ database: 'postgres', redis: true, env: { IDENTITY: 'cas', CAS_URL: cas.url } });
  const web = await registerClient(gh.services.database.knex, { name: 'Portal', kind: 'web', 'redirect-uri': [callback], consent: 'skip', scopes });
  return {
    gh,
    cas,
    web,
    portal: await relyingParty(gh.url, web, callback),
    close: async () => {
      await gh.close();
      await cas.close();
    },
  };
}
