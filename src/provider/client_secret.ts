import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Provider } from 'oidc-provider';

const PREFIX = 'sha256$';

/**
 * Client secrets are 256 random bits, shown once and stored only as a SHA-256 digest: a
 * database dump yields no usable secret. A fast hash suffices for a random secret of this
 * size, and keeps client authentication cheap on the token endpoint.
 */
export function newClientSecret(): { secret: string; stored: string } {
  const secret = randomBytes(32).toString('base64url');
  return { secret, stored: hashClientSecret(secret) };
}

export function hashClientSecret(secret: string): string {
  return PREFIX + createHash('sha256').update(secret).digest('base64url');
}

/**
 * oidc-provider compares the presented secret with the stored one as plain text. Replace that
 * comparison with one against the digest. This works because the symmetric uses of a secret
 * (client_secret_jwt, HS* signing) are disabled in the provider configuration.
 */
export function useHashedClientSecrets(provider: Provider): void {
  (provider.Client.prototype as unknown as { compareClientSecret(actual: string): boolean }).compareClientSecret = function compare(
    this: { clientSecret?: string },
    actual: string,
  ): boolean {
    const stored = this.clientSecret;
    if (!stored?.startsWith(PREFIX)) return false;
    return timingSafeEqual(Buffer.from(hashClientSecret(actual)), Buffer.from(stored));
  };
}
