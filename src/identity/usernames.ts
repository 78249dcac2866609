/**
 * A username as it is shown: trimmed, and in Unicode NFKC so that look-alike encodings
 * (fullwidth `ａｌｉｃｅ`, a ligature, a composed or decomposed accent) are written one way.
 * The case is kept as it was first entered.
 */
export function displayUsername(raw: string): string {
  return raw.normalize('NFKC').trim();
}

/**
 * The identity a username names: NFKC, case-folded, trimmed. Two usernames with the same key are
 * one account, one lockout. JavaScript has no full case folding; upper- then lower-casing gives
 * it for the letters that matter here (`ß` and `SS`, `ς` and `σ` meet), and the final NFKC puts
 * back together what changing case took apart. Stored keys are computed with it
 * (migrations/20261130000000_username_keys.ts): changing it needs a migration that recomputes them.
 */
export function usernameKey(raw: string): string {
  return displayUsername(raw).toUpperCase().toLowerCase().normalize('NFKC');
}
