import { createPrivateKey, createPublicKey, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { ExternalSigningKey } from 'oidc-provider';
import { publicJwk, SIGNING_ALGS, type KeyPurpose, type SigningAlg, type StoredSigningKey } from '../storage/signing_keys.ts';
import { TTL } from './ttl.ts';

/** A retired key stays published this long: the longest lifetime of a token it signs (id_token). */
export const PUBLISHED_AFTER_RETIREMENT_SECONDS = Math.max(TTL.IdToken, TTL.AccessToken, TTL.ClientCredentials);

interface HeldKey {
  kid: string;
  alg: SigningAlg;
  activatesAt: number;
  retiredAt: number | null;
  privateKey: KeyObject;
  publicJwk: JWK;
}

/**
 * The signing keys one instance holds, reloaded when a rotation is announced. Which key signs
 * and which are published follow from the clock at each use (activation and the end of a
 * retired key's publication need no timer), so instances that loaded the same rows agree.
 */
export class SigningKeyRing {
  #keys: Record<KeyPurpose, HeldKey[]>;
  readonly #load: () => Promise<Record<KeyPurpose, StoredSigningKey[]>>;
  #reloading: Promise<void> = Promise.resolve();

  private constructor(load: () => Promise<Record<KeyPurpose, StoredSigningKey[]>>, keys: Record<KeyPurpose, StoredSigningKey[]>) {
    this.#load = load;
    this.#keys = held(keys);
  }

  static async open(load: () => Promise<Record<KeyPurpose, StoredSigningKey[]>>): Promise<SigningKeyRing> {
    return new SigningKeyRing(load, await load());
  }

  /**
   * One load at a time, each begun after the one before has finished: two at once (a rotation
   * announced as the listener reconnects) could finish out of order, and the one that read the
   * table before the rotation would leave its keys in place until the next rotation.
   */
  reload(): Promise<void> {
    const reloaded = this.#reloading.catch(() => {}).then(async () => {
      this.#keys = held(await this.#load());
    });
    this.#reloading = reloaded;
    return reloaded;
  }

  /** The key that signs for a purpose and algorithm now: the newest one already active. */
  signing(purpose: KeyPurpose, alg: SigningAlg, now = Date.now()): HeldKey {
    const key = this.#keys[purpose].filter((k) => k.alg === alg && k.activatesAt <= now).sort((a, b) => b.activatesAt - a.activatesAt)[0];
    if (!key) throw new Error(`no active ${purpose} ${alg} signing key`);
    return key;
  }

  /** The JWKS of a purpose: next, active, and retired keys whose tokens may still be alive. */
  published(purpose: KeyPurpose, now = Date.now()): JWK[] {
    return this.#keys[purpose].filter((k) => k.retiredAt === null || k.retiredAt + PUBLISHED_AFTER_RETIREMENT_SECONDS * 1000 > now).map((k) => k.publicJwk);
  }

  /**
   * oidc-provider's keystore, fixed when it is constructed: one external key per purpose and
   * algorithm that always stands for the key signing now. Main first: oidc-provider signs
   * id_tokens with the first key of an algorithm.
   */
  keystore(): ExternalSigningKey[] {
    return (['main', 'restricted'] as const).flatMap((purpose) => SIGNING_ALGS.map((alg) => new CurrentKey(this, purpose, alg)));
  }

  /** Any held key by kid, for signing under the kid a token's header already names. */
  byKid(kid: string): HeldKey | undefined {
    return [...this.#keys.main, ...this.#keys.restricted].find((k) => k.kid === kid);
  }

  /** A main key by kid, retired ones included: id_tokens are signed with main keys. */
  mainKey(kid: string): HeldKey | undefined {
    return this.#keys.main.find((k) => k.kid === kid);
  }
}

class CurrentKey extends ExternalSigningKey {
  readonly #ring: SigningKeyRing;
  readonly #purpose: KeyPurpose;
  readonly #alg: SigningAlg;

  constructor(ring: SigningKeyRing, purpose: KeyPurpose, alg: SigningAlg) {
    super();
    this.#ring = ring;
    this.#purpose = purpose;
    this.#alg = alg;
  }

  override get kid(): string {
    return this.#ring.signing(this.#purpose, this.#alg).kid;
  }

  override set kid(_value: string) {}

  override get alg(): string {
    return this.#alg;
  }

  override set alg(_value: string) {}

  override keyObject(): KeyObject {
    return createPublicKey(this.#ring.signing(this.#purpose, this.#alg).privateKey);
  }

  /**
   * Signs with the key the header names: the header was written a moment earlier, and the
   * signature must match it even if another key became active in between.
   */
  override async sign(data: Buffer): Promise<Buffer> {
    const header = JSON.parse(Buffer.from(data.toString().split('.')[0]!, 'base64url').toString()) as { kid?: string };
    const key = (header.kid && this.#ring.byKid(header.kid)) || this.#ring.signing(this.#purpose, this.#alg);
    return sign('sha256', data, key.alg === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' } : key.privateKey);
  }
}

function held(keys: Record<KeyPurpose, StoredSigningKey[]>): Record<KeyPurpose, HeldKey[]> {
  const hold = (stored: StoredSigningKey[]): HeldKey[] => stored.map(({ jwk, activatesAt, retiredAt }) => ({
    kid: jwk.kid!,
    alg: jwk.alg as SigningAlg,
    activatesAt: activatesAt.getTime(),
    retiredAt: retiredAt?.getTime() ?? null,
    privateKey: createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }),
    publicJwk: publicJwk(jwk),
  }));
  return { main: hold(keys.main), restricted: hold(keys.restricted) };
}
