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
  /** When instances start signing with it; until then it is only published (`next`). */
  activatesAt: Date;
  /** When its successor took over signing; it stays published while tokens it signed live. */
  retiredAt: Date | null;
}

/** A private key as instances hold it: opened, with the dates that decide what it does. */
export interface StoredSigningKey {
  jwk: JWK;
  activatesAt: Date;
  retiredAt: Date | null;
}

/** The channel on which a rotation is announced (payload: the purpose). */
export const KEY_CHANGES_CHANNEL = 'gatehouse_key_changes';

export async function generateSigningKey(alg: SigningAlg): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg, use: 'sig' };
}

/**
 * The private keys of a purpose that are still published (next, active, or retired less than
 * `publishedAfterRetirement` ago), newest first. Creates one key per algorithm on first use,
 * active at once, under a lock so concurrent first starts agree. Keys stored in clear by an
 * older Gatehouse are sealed under the KEK here: a migration cannot, it has no KEK.
 */
export async function loadSigningKeys(db: Knex, purpose: KeyPurpose, kek: KeyEncryptionKey, publishedAfterRetirement: number): Promise<StoredSigningKey[]> {
  return db.transaction(async (trx) => {
    await lockKeys(trx, purpose);
    const rows: { kid: string; alg: string; private_jwk: StoredJwk; activates_at: Date; retired_at: Date | null }[] = await trx(TABLE)
      .select('kid', 'alg', 'private_jwk', 'activates_at', 'retired_at').where({ purpose })
      .where((q) => q.whereNull('retired_at').orWhere('retired_at', '>', new Date(Date.now() - publishedAfterRetirement * 1000)))
      .orderBy('activates_at', 'desc').orderBy('kid');
    for (const row of rows.filter((candidate) => !isSealed(candidate.private_jwk))) {
      await trx(TABLE).where({ kid: row.kid }).update({ private_jwk: JSON.stringify(sealJwk(kek, row.private_jwk as JWK)) });
    }
    const missing = SIGNING_ALGS.filter((a) => !rows.some((row) => row.alg === a && row.retired_at === null));
    const created: StoredSigningKey[] = [];
    for (const alg of missing) created.unshift(await insertKey(trx, purpose, await generateSigningKey(alg), kek, new Date()));
    return [...created, ...rows.map((row) => ({
      jwk: isSealed(row.private_jwk) ? openJwk(kek, row.kid, row.private_jwk) : row.private_jwk,
      activatesAt: row.activates_at,
      retiredAt: row.retired_at,
    }))];
  });
}

/**
 * Adds a new key per algorithm, published at once and signing from `activationDelaySeconds`
 * on; the key it succeeds signs until then and is retired from that moment. Every running
 * instance is told (NOTIFY, delivered at commit) and loads the new keys without a restart.
 */
export async function rotateSigningKeys(db: Knex, purpose: KeyPurpose, kek: KeyEncryptionKey, activationDelaySeconds: number): Promise<SigningKeyInfo[]> {
  const created = await db.transaction(async (trx) => {
    await lockKeys(trx, purpose);
    // A key sealed under a KEK the servers lack would stop them at their next load.
    const current: { kid: string; private_jwk: StoredJwk }[] = await trx(TABLE).select('kid', 'private_jwk').where({ purpose }).whereNull('retired_at');
    for (const row of current) if (isSealed(row.private_jwk)) openJwk(kek, row.kid, row.private_jwk);
    const kids: string[] = [];
    for (const alg of SIGNING_ALGS) {
      // The first key of its kind has nothing to wait for: no one holds tokens or keys to replace.
      const succeeded = await trx(TABLE).where({ purpose, alg }).whereNull('retired_at').count<{ count: string }[]>({ count: '*' });
      const activatesAt = new Date(Date.now() + (Number(succeeded[0]!.count) > 0 ? activationDelaySeconds * 1000 : 0));
      await trx(TABLE).where({ purpose, alg }).whereNull('retired_at').update({ retired_at: activatesAt });
      kids.push((await insertKey(trx, purpose, await generateSigningKey(alg), kek, activatesAt)).jwk.kid!);
    }
    await trx.raw('SELECT pg_notify(?, ?)', [KEY_CHANGES_CHANNEL, purpose]);
    return kids;
  });
  return (await listSigningKeys(db)).filter((key) => created.includes(key.kid));
}

export async function listSigningKeys(db: Knex): Promise<SigningKeyInfo[]> {
  const rows: { kid: string; purpose: KeyPurpose; alg: string; created_at: Date; activates_at: Date; retired_at: Date | null }[] = await db(TABLE)
    .select('kid', 'purpose', 'alg', 'created_at', 'activates_at', 'retired_at').orderBy('activates_at', 'desc').orderBy('alg', 'desc');
  return rows.map((row) => ({ kid: row.kid, purpose: row.purpose, alg: row.alg, createdAt: row.created_at, activatesAt: row.activates_at, retiredAt: row.retired_at }));
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

async function insertKey(trx: Knex.Transaction, purpose: KeyPurpose, jwk: JWK, kek: KeyEncryptionKey, activatesAt: Date): Promise<StoredSigningKey> {
  // created_at from the clock, not the transaction start, so keys made in one go stay ordered.
  await trx(TABLE).insert({ kid: jwk.kid, purpose, alg: jwk.alg, private_jwk: JSON.stringify(sealJwk(kek, jwk)), created_at: new Date(), activates_at: activatesAt });
  return { jwk, activatesAt, retiredAt: null };
}

/** The public half of a private JWK, as published at a JWKS endpoint. */
export function publicJwk(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, k: _k, ...visible } = jwk;
  return visible;
}
