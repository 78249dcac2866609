import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { pollUntil } from '../support/poll.ts';
import { alreadyConsumed } from '../../src/storage/errors.ts';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { createPerson } from '../support/accounts.ts';
import { relyingParty, type RelyingParty } from '../support/relying_party.ts';
import { UserAgent } from '../support/user_agent.ts';
import { authorizationCode, isActive, tokenRequest } from '../support/code_flow.ts';

let gh: RunningGatehouse;
beforeAll(async () => { gh = await startGatehouse({ database: 'postgres', redis: true }); });
afterAll(() => gh.close());

async function grant(): Promise<string> {
  return new gh.provider.Grant({ accountId: 'acct-1', clientId: 'client-1' }).save();
}

function emit(error: Error, entities: Record<string, unknown>): void {
  gh.provider.emit('grant.error', { oidc: { entities } } as unknown as KoaContextWithOIDC, error);
}

/** The Grant once the handler's destroy (not awaited by the emitter) has had time to land. */
const grantAfterwards = (grantId: string) => pollUntil(() => gh.provider.Grant.find(grantId), (found) => found === undefined, 2000);

test('losing the atomic consume of a code (a racing reuse) revokes the grant', async () => {
  const grantId = await grant();
  emit(alreadyConsumed('AuthorizationCode'), { AuthorizationCode: { grantId } });
  expect(await grantAfterwards(grantId)).toBeUndefined();
});

test('losing the atomic consume of a refresh token revokes the grant', async () => {
  const grantId = await grant();
  emit(alreadyConsumed('RefreshToken'), { RefreshToken: { grantId } });
  expect(await grantAfterwards(grantId)).toBeUndefined();
});

test('any other token error leaves the grant alone', async () => {
  const grantId = await grant();
  emit(new errors.InvalidGrant('grant request is invalid'), { AuthorizationCode: { grantId } });
  // Nothing to wait for if the handler does nothing: give a wrong destroy the same 2 s to show.
  expect(await grantAfterwards(grantId)).toBeDefined();
});

describe('two redemptions of one code racing each other, for real', () => {
  const CALLBACK = 'https://portal.example.edu/cb';
  let web: RegisteredClient;
  let api: RegisteredClient;
  let rp: RelyingParty;

  beforeAll(async () => {
    const db = gh.services.database.knex;
    web = await registerClient(db, { name: 'Portal', kind: 'web', 'redirect-uri': [CALLBACK], scopes: 'openid offline_access', consent: 'skip' });
    api = await registerClient(db, { name: 'API', kind: 'resource-server' });
    await createPerson(db, { username: 'racer', password: 'correct horse battery' });
    rp = await relyingParty(gh.url, web, CALLBACK);
  });

  test('exactly one gets tokens, and the grant is revoked whichever path the loser took, so those tokens die too', async () => {
    const browser = new UserAgent(CALLBACK);
    for (let round = 0; round < 5; round += 1) {
      const issued = await authorizationCode(rp, browser, round === 0 ? { username: 'racer', password: 'correct horse battery' } : undefined);
      const answers = await Promise.all([tokenRequest(gh.url, web, issued.form), tokenRequest(gh.url, web, issued.form)]);
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 400]);
      expect(answers.find((answer) => answer.status === 400)!.body).toMatchObject({ error: 'invalid_grant' });
      const winner = answers.find((answer) => answer.status === 200)!.body as { access_token: string; refresh_token: string };
      // The loser's revocation runs after its answer: poll for it.
      expect(await pollUntil(() => isActive(gh.url, winner.access_token, api), (active) => !active, 3000)).toBe(false);
      expect(await isActive(gh.url, winner.refresh_token, api)).toBe(false);
    }
  }, 60_000);
});
