import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Knex } from 'knex';
import { isSealed, type KeyEncryptionKey, type SealedSecret } from '../key_encryption.ts';

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
 * key per algorithm on first use, under a lock so concurrent first starts agree. Keys stored
 * in clear by an older Gatehouse are sealed under the KEK here: a migration cannot, it has no KEK.
 */
export async function loadSigningKeys(db: Knex, purpose: KeyPurpose, kek: KeyEncryptionKey): Promise<JWK[]> {
  return db.transaction(async (trx) => {
    await lockKeys(trx, purpose);
    const rows: { kid: string; alg: string; private_jwk: StoredJwk; retired_at: Date | null }[] = await trx(TABLE)
      .select('kid', 'alg', 'private_jwk', 'retired_at').where({ purpose }).orderBy('created_at', 'desc').orderBy('kid');
    for (const row of rows.filter((candidate) => !isSealed(candidate.private_jwk))) {
      await trx(TABLE).where({ kid: row.kid }).update({ private_jwk: JSON.stringify(sealJwk(kek, row.private_jwk as JWK)) });
    }
    const current = rows.filter((row) => row.retired_at === null);
    const missing = SIGNING_ALGS.filter((a) => !current.some((row) => row.alg === a));
    const created = [];
    for (const alg of missing) created.unshift(await insertKey(trx, purpose, await generateSigningKey(alg), kek));
    return [...created, ...current.map((row) => (isSealed(row.private_jwk) ? openJwk(kek, row.kid, row.private_jwk) : row.private_jwk))];
  });
}

/**
 * Adds a new key per algorithm and retires all but the newest previous one, which stays
 * published for verification until the next rotation. Running servers use it after restart.
 */
export async function rotateSigningKeys(db: Knex, purpose: KeyPurpose, kek: KeyEncryptionKey): Promise<SigningKeyInfo[]> {
  await db.transaction(async (trx) => {
    await lockKeys(trx, purpose);
    // A key sealed under a KEK the servers lack would stop them at their next start.
    const current: { kid: string; private_jwk: StoredJwk }[] = await trx(TABLE).select('kid', 'private_jwk').where({ purpose }).whereNull('retired_at');
    for (const row of current) if (isSealed(row.private_jwk)) openJwk(kek, row.kid, row.private_jwk);
    for (const alg of SIGNING_ALGS) {
      const previous: { kid: string }[] = await trx(TABLE).select('kid').where({ purpose, alg }).whereNull('retired_at')
        .orderBy('created_at', 'desc');
      const stale = previous.slice(1).map((row) => row.kid);
      if (stale.length) await trx(TABLE).whereIn('kid', stale).update({ retired_at: new Date() });
      await insertKey(trx, purpose, await generateSigningKey(alg), kek);
    }
  });
  return listSigningKeys(db);
}

export async function listSigningKeys(db: Knex): Promise<SigningKeyInfo[]> {
  const rows: { kid: string; purpose: KeyPurpose; alg: string; created_at: Date; retired_at: Date | null }[] = await db(TABLE)
    .select('kid', 'purpose', 'alg', 'created_at', 'retired_at').orderBy('created_at', 'desc');
  return rows.map((row) => ({ kid: row.kid, purpose: row.purpose, alg: row.alg, createdAt: row.created_at, retiredAt: row.retired_at }));
}

/**
 * Seals every stored private key under `to` (opening it with `from`, or as it is if an older
 * Gatehouse left it in clear), in the caller's transaction; returns how many.
 */
export async function resealSigningKeys(trx: Knex.Transaction, from: KeyEncryptionKey, to: KeyEncryptionKey): Promise<number> {
  for (const purpose of ['main', 'restricted'] as const) await lockKeys(trx, purpose);
  const rows: { kid: string; private_jwk: StoredJwk }[] = await trx(TABLE).select('kid', 'private_jwk').forUpdate();
  for (const row of rows) {
    const jwk = isSealed(row.private_jwk) ? openJwk(from, row.kid, row.private_jwk) : row.private_jwk;
    await trx(TABLE).where({ kid: row.kid }).update({ private_jwk: JSON.stringify(sealJwk(to, jwk)) });
  }
  return rows.length;
}

/** A private JWK as stored: sealed, or in clear as an older Gatehouse left it. */
type StoredJwk = SealedSecret | JWK;

/** The associated data names the row: a sealed key copied onto another kid does not open. */
function sealJwk(kek: KeyEncryptionKey, jwk: JWK): SealedSecret {
  return kek.seal(jwk, `${TABLE}:${jwk.kid}`);
}

function openJwk(kek: KeyEncryptionKey, kid: string, sealed: SealedSecret): JWK {
  return kek.open(sealed, `${TABLE}:${kid}`) as JWK;
}

function lockKeys(trx: Knex.Transaction, purpose: KeyPurpose): Promise<unknown> {
  return trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`gatehouse:signing_keys:${purpose}`]);
}

async function insertKey(trx: Knex.Transaction, purpose: KeyPurpose, jwk: JWK, kek: KeyEncryptionKey): Promise<JWK> {
  // created_at from the clock, not the transaction start, so keys made in one go stay ordered.
  await trx(TABLE).insert({ kid: jwk.kid, purpose, alg: jwk.alg, private_jwk: JSON.stringify(sealJwk(kek, jwk)), created_at: new Date() });
  return jwk;
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
