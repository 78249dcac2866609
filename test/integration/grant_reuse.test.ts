import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { alreadyConsumed } from '../../src/storage/errors.ts';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';

let gh: RunningGatehouse;
beforeAll(async () => { gh = await startGatehouse({ database: 'postgres', redis: true }); });
afterAll(() => gh.close());

async function grant(): Promise<string> {
  return new gh.provider.Grant({ accountId: 'acct-1', clientId: 'client-1' }).save();
}

async function emitted(error: Error, entities: Record<string, unknown>): Promise<void> {
  gh.provider.emit('grant.error', { oidc: { entities } } as unknown as KoaContextWithOIDC, error);
  await new Promise((resolve) => setTimeout(resolve, 200));
}

test('losing the atomic consume of a code (a racing reuse) revokes the grant', async () => {
  const grantId = await grant();
  await emitted(alreadyConsumed('AuthorizationCode'), { AuthorizationCode: { grantId } });
  expect(await gh.provider.Grant.find(grantId)).toBeUndefined();
});

test('losing the atomic consume of a refresh token revokes the grant', async () => {
  const grantId = await grant();
  await emitted(alreadyConsumed('RefreshToken'), { RefreshToken: { grantId } });
  expect(await gh.provider.Grant.find(grantId)).toBeUndefined();
});

test('any other token error leaves the grant alone', async () => {
  const grantId = await grant();
  await emitted(new errors.InvalidGrant('grant request is invalid'), { AuthorizationCode: { grantId } });
  expect(await gh.provider.Grant.find(grantId)).toBeDefined();
});
