import { defineScope } from '../src/admin/scope_commands.ts';
import { addGroupMember } from '../src/admin/account_commands.ts';
import { createPerson } from '../test/support/accounts.ts';
import { registerClient } from '../test/support/clients.ts';
import { relyingParty } from '../test/support/relying_party.ts';
import { UserAgent } from '../test/support/user_agent.ts';
import type { GatehouseTarget } from './gatehouse_target.ts';
import type { Side } from './compare.ts';
import { introspectionOf, send } from './scenarios.ts';

const CALLBACK = 'https://bench.example.edu/cb';

/**
 * The cost of the live group check at introspection: one person's token (login scope and an
 * enterprise scope, so each introspection re-checks two groups through the warm cache),
 * introspected by Gatehouse and by the same Gatehouse with the check left out.
 * Must run before the other scenarios: the enterprise scope list is cached once read.
 */
export async function groupCheckSides(target: GatehouseTarget): Promise<{ withCheck: Side; withoutCheck: Side; check(): Promise<void> }> {
  const { db, config } = target.shared;
  await defineScope('grades', { group: 'registrar', description: 'See your grades' }, config.loginScope)(db);
  await defineScope(config.loginScope, { group: 'active-people', description: 'Sign in' }, config.loginScope)(db);
  await createPerson(db, { username: 'bench-person', password: 'bench person password' });
  for (const group of ['registrar', 'active-people']) await addGroupMember(group, 'bench-person')(db);
  const web = await registerClient(db, { name: 'Bench portal', kind: 'web', 'redirect-uri': [CALLBACK], scopes: `openid ${config.loginScope} grades`, consent: 'skip' }, config.loginScope);

  const rp = await relyingParty(target.url, web, CALLBACK);
  const browser = new UserAgent(CALLBACK);
  const authorization = await rp.begin({ scope: `openid ${config.loginScope} grades` });
  const callback = await browser.submit(await browser.open(authorization.url), '/login', { username: 'bench-person', password: 'bench person password' });
  const personToken = (await rp.finish(callback.url, authorization)).access_token;
  const request = introspectionOf(personToken, target.clients.resourceServer);
  const withCheck = { name: 'introspection with the live group check', url: target.url, request };
  const withoutCheck = { name: 'introspection without it', url: target.uncheckedUrl, request };
  return {
    withCheck,
    withoutCheck,
    check: async () => {
      for (const side of [withCheck, withoutCheck]) {
        const body = await send(side.url, request);
        if (body.active !== true || body.scope !== `openid ${config.loginScope} grades` || body.username !== 'bench-person') {
          throw new Error(`group check: ${side.name}: the person's token is not introspected with its enterprise scope: ${JSON.stringify(body)}`);
        }
      }
    },
  };
}
