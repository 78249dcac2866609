import type { SigningKeyInfo } from '../storage/signing_keys.ts';
import { PUBLISHED_AFTER_RETIREMENT_SECONDS } from '../provider/signing_key_ring.ts';
import type { CommandResult } from './output.ts';

/** `next`: published, not yet signing; `active`: signing; `retired`: published while its tokens live. */
export type KeyState = 'next' | 'active' | 'retired';

export function keyState(key: SigningKeyInfo, now: Date): KeyState {
  if (key.activatesAt > now) return 'next';
  return key.retiredAt && key.retiredAt <= now ? 'retired' : 'active';
}

/** `keys list`: every stored key with its state and the dates that decide it. */
export function keyListing(keys: SigningKeyInfo[], now = new Date()): CommandResult {
  const rows = keys.map((k) => ({
    kid: k.kid,
    purpose: k.purpose,
    alg: k.alg,
    state: keyState(k, now),
    created_at: k.createdAt.toISOString(),
    activates_at: k.activatesAt.toISOString(),
    retired_at: k.retiredAt?.toISOString() ?? null,
    published_until: k.retiredAt ? new Date(k.retiredAt.getTime() + PUBLISHED_AFTER_RETIREMENT_SECONDS * 1000).toISOString() : null,
  }));
  return {
    json: rows,
    text: rows.map((r) => [
      `${r.kid}  ${r.purpose.padEnd(10)}  ${r.alg}  ${r.state.padEnd(7)}  active from ${r.activates_at}`,
      ...(r.retired_at ? [`  retired ${r.retired_at}, published until ${r.published_until}`] : []),
    ].join('')).join('\n'),
  };
}

/**
 * `keys rotate --json`: the new key's `kid` and `activates_at` at the top (DESIGN.md), that of the
 * RS256 key, which signs ID tokens unless a client asks otherwise; `keys` lists every key made
 * (one per algorithm).
 */
export function rotationResult(keys: SigningKeyInfo[]): CommandResult {
  const rows = keys.map((k) => ({ kid: k.kid, purpose: k.purpose, alg: k.alg, activates_at: k.activatesAt.toISOString() }));
  const primary = rows.find((row) => row.alg === 'RS256') ?? rows[0]!;
  return {
    json: { ...primary, keys: rows },
    text: rows.map((r) => `${r.kid}  ${r.purpose.padEnd(10)}  ${r.alg}  published now, signs from ${r.activates_at}`).join('\n'),
  };
}
