import { adapterFor, type Stores } from './adapter_router.ts';

/** Every model oidc-provider links to a Grant (its revoke helper's list, for the features it has). */
const GRANT_ARTIFACTS = ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest'] as const;

/**
 * Revokes a Grant: its tokens and codes go from whichever backend holds them, then the Grant.
 * The Grant goes last so that a run cut short (Redis unreachable) leaves it listed, and running
 * the command again finishes the job.
 */
export async function revokeGrant(stores: Stores, grantId: string): Promise<void> {
  await Promise.all(GRANT_ARTIFACTS.map((model) => adapterFor(stores, model).revokeByGrantId(grantId)));
  await adapterFor(stores, 'Grant').destroy(grantId);
}
