import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Knex } from 'knex';

const TABLE = 'signing_keys';

export type KeyPurpose = 'main' | 'restricted';
/** RS256 is what OIDC requires every provider to offer for id_tokens; ES256 is the compact choice. */
export const SIGNING_ALGS = ['RS256', 'ES256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

export interface SigningKeyInfo {
  kid: string;
  purpose: KeyPurpose;
  alg: string;
  createdAt: Date;
  retiredAt: Date | null;
}

export async function generateSigningKey(alg: SigningAlg): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg, use: 'sig' };
}

/**
 * The private JWKs in use for a purpose, newest first (oidc-provider signs with the first key
 * of an algorithm; older ones stay published so tokens they signed still verify). Creates one
 * key per algorithm on first use, under a lock so concurrent first starts agree.
 */
export async function loadSigningKeys(db: Knex, purpose: KeyPurpose): Promise<JWK[]> {
  return db.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`gatehouse:signing_keys:${purpose}`]);
    const rows: { alg: string }[] = await trx(TABLE).select('alg').where({ purpose }).whereNull('retired_at');
    for (const alg of SIGNING_ALGS.filter((a) => !rows.some((row) => row.alg === a))) {
      await insertKey(trx, purpose, await generateSigningKey(alg));
    }
    const keys: { private_jwk: JWK }[] = await trx(TABLE).select('private_jwk').where({ purpose }).whereNull('retired_at')
      .orderBy('created_at', 'desc').orderBy('kid');
    return keys.map((row) => row.private_jwk);
  });
}

/**
 * Adds a new key per algorithm and retires all but the newest previous one, which stays
 * published for verification until the next rotation. Running servers use it after restart.
 */
export async function rotateSigningKeys(db: Knex, purpose: KeyPurpose): Promise<SigningKeyInfo[]> {
  await db.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`gatehouse:signing_keys:${purpose}`]);
    for (const alg of SIGNING_ALGS) {
      const previous: { kid: string }[] = await trx(TABLE).select('kid').where({ purpose, alg }).whereNull('retired_at')
        .orderBy('created_at', 'desc');
      const stale = previous.slice(1).map((row) => row.kid);
      if (stale.length) await trx(TABLE).whereIn('kid', stale).update({ retired_at: new Date() });
      await insertKey(trx, purpose, await generateSigningKey(alg));
    }
  });
  return listSigningKeys(db);
}

export async function listSigningKeys(db: Knex): Promise<SigningKeyInfo[]> {
  const rows: { kid: string; purpose: KeyPurpose; alg: string; created_at: Date; retired_at: Date | null }[] = await db(TABLE)
    .select('kid', 'purpose', 'alg', 'created_at', 'retired_at').orderBy('created_at', 'desc');
  return rows.map((row) => ({ kid: row.kid, purpose: row.purpose, alg: row.alg, createdAt: row.created_at, retiredAt: row.retired_at }));
}

async function insertKey(trx: Knex.Transaction, purpose: KeyPurpose, jwk: JWK): Promise<void> {
  // created_at from the clock, not the transaction start, so keys made in one go stay ordered.
  await trx(TABLE).insert({ kid: jwk.kid, purpose, alg: jwk.alg, private_jwk: JSON.stringify(jwk), created_at: new Date() });
}

/** The public half of a private JWK, as published at a JWKS endpoint. */
export function publicJwk(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, k: _k, ...visible } = jwk;
  return visible;
}

/** The newest key of an algorithm (the one oidc-provider signs with). */
export function newestKid(keys: JWK[], alg: SigningAlg): string {
  const key = keys.find((candidate) => candidate.alg === alg);
  if (!key?.kid) throw new Error(`no ${alg} signing key`);
  return key.kid;
}
