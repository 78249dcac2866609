import { createPublicKey } from 'node:crypto';
import { compactVerify, decodeProtectedHeader } from 'jose';
import type { Client, Provider } from 'oidc-provider';
import type { SigningKeyRing } from './signing_key_ring.ts';

type IdTokenModel = Provider['IdToken'];

/**
 * An id_token_hint (RP-initiated logout, prompt=none) may be any id_token Gatehouse issued to
 * the client, also one signed before the last key rotation. oidc-provider checks hints against
 * its keystore, which stands only for the keys signing now; a hint it cannot place is checked
 * here against every main key this instance holds, with oidc-provider's own rules for hints:
 * the issuer, the client as audience, a subject, the client's algorithm, expiry ignored.
 */
export function acceptHintsFromEarlierKeys(provider: Provider, ring: SigningKeyRing): void {
  const IdToken = provider.IdToken;
  const validate = IdToken.validate.bind(IdToken);
  IdToken.validate = (async (jwt: string, client: Client) => {
    try {
      return await validate(jwt, client);
    } catch (error) {
      const header = safely(() => decodeProtectedHeader(jwt));
      const key = typeof header?.kid === 'string' ? ring.mainKey(header.kid) : undefined;
      if (!key || header?.alg !== client.idTokenSignedResponseAlg) throw error;
      const verified = await compactVerify(jwt, createPublicKey(key.privateKey), { algorithms: [key.alg] }).catch(() => undefined);
      const payload = verified ? (safely(() => JSON.parse(new TextDecoder().decode(verified.payload))) as Record<string, unknown> | undefined) : undefined;
      const audiences = [payload?.aud].flat();
      if (!payload || payload.iss !== provider.issuer || !audiences.includes(client.clientId) || typeof payload.sub !== 'string') throw error;
      return { payload, header: verified!.protectedHeader };
    }
  }) as IdTokenModel['validate'];
}

function safely<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
