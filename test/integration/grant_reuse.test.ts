import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { pollUntil } from '../support/poll.ts';
import { alreadyConsumed } from '../../src/storage/errors.ts';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';

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
