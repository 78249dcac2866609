import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Adapter, AdapterPayload } from 'oidc-provider';

/**
 * Marks a stored id as a digest, and which one. oidc-provider's ids use nanoid's alphabet, which
 * has no '.', so a value stored in clear (before this change) can never look like a digest.
 */
const DIGEST_PREFIX = 'sha256.';

/**
 * The id under which an artifact is stored: SHA-256 of the value its holder presents. No salt or
 * slow hash is needed: oidc-provider's ids are at least 126 random bits (nanoid), so a digest
 * cannot be reversed by guessing, and an unsalted one keeps the lookup a single indexed read.
 */
export function storedId(id: string): string {
  return DIGEST_PREFIX + createHash('sha256').update(id).digest('base64url');
}

/**
 * An artifact found by uid or user code has no known value, only its digest; its jti becomes a
 * handle that names the digest and carries this process's MAC, so a later destroy or save of the
 * same object reaches its row, while a digest read from a dump opens nothing when presented.
 */
const HANDLE_PREFIX = '~';
const handleKey = randomBytes(32);

function handleFor(digest: string): string {
  return `${HANDLE_PREFIX}${digest}~${mac(digest)}`;
}

function mac(digest: string): string {
  return createHmac('sha256', handleKey).update(digest).digest('base64url');
}

/** The digest a handle names, or undefined if `id` is no handle minted here. */
function digestOfHandle(id: string): string | undefined {
  if (!id.startsWith(HANDLE_PREFIX)) return undefined;
  const [digest, tag] = id.slice(HANDLE_PREFIX.length).split('~');
  if (!digest || !tag) return undefined;
  const expected = Buffer.from(mac(digest));
  const given = Buffer.from(tag);
  return given.length === expected.length && timingSafeEqual(given, expected) ? digest : undefined;
}

function toStored(id: string): string {
  return digestOfHandle(id) ?? storedId(id);
}

/**
 * Stores a model whose id is a bearer secret (a token, a code, a session cookie) under the id's
 * digest, so a dump of Postgres or Redis holds no value that works. oidc-provider puts the value
 * in the payload too (`jti`): it is stored as the digest and given back as the caller's value.
 * Index keys (grant, uid, user code) and consumed markers name the stored id, hence the digest.
 */
export function digestedIds(inner: Adapter): Adapter {
  return {
    upsert: (id, payload, expiresIn) => {
      const stored = toStored(id);
      return inner.upsert(stored, payload.jti === id ? { ...payload, jti: stored } : payload, expiresIn);
    },
    find: async (id) => {
      const stored = toStored(id);
      return revealed(await inner.find(stored), stored, id);
    },
    findByUid: async (uid) => withHandle(await inner.findByUid(uid)),
    findByUserCode: async (userCode) => withHandle(await inner.findByUserCode(userCode)),
    consume: (id) => inner.consume(toStored(id)),
    destroy: (id) => inner.destroy(toStored(id)),
    revokeByGrantId: (grantId) => inner.revokeByGrantId(grantId),
  };
}

function revealed(payload: AdapterPayload | undefined | void, stored: string, id: string): AdapterPayload | undefined {
  if (!payload) return undefined;
  return payload.jti === stored ? { ...payload, jti: id } : payload;
}

function withHandle(payload: AdapterPayload | undefined | void): AdapterPayload | undefined {
  if (!payload) return undefined;
  return typeof payload.jti === 'string' && payload.jti.startsWith(DIGEST_PREFIX) ? { ...payload, jti: handleFor(payload.jti) } : payload;
}

/**
 * An Interaction names the session it belongs to by the session's id (`session.cookie`, the
 * value of the session cookie); oidc-provider never reads it back, so it is stored as the digest.
 */
export function sessionCookieDigested(inner: Adapter): Adapter {
  return {
    upsert: (id, payload, expiresIn) => {
      const session = payload.session as { cookie?: unknown } | undefined;
      if (typeof session?.cookie !== 'string' || session.cookie.startsWith(DIGEST_PREFIX)) return inner.upsert(id, payload, expiresIn);
      return inner.upsert(id, { ...payload, session: { ...session, cookie: toStored(session.cookie) } } as AdapterPayload, expiresIn);
    },
    find: (id) => inner.find(id),
    findByUid: (uid) => inner.findByUid(uid),
    findByUserCode: (userCode) => inner.findByUserCode(userCode),
    consume: (id) => inner.consume(id),
    destroy: (id) => inner.destroy(id),
    revokeByGrantId: (grantId) => inner.revokeByGrantId(grantId),
  };
}
