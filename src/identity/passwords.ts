import argon2 from 'argon2';

/**
 * argon2id with OWASP's recommended minimum (19 MiB, 2 passes): slow enough to make a stolen
 * hash expensive, fast enough that a login takes tens of milliseconds.
 */
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

// Checked when the username is unknown, so a failed login takes as long whether or not the user exists.
let decoy: Promise<string> | undefined;

export async function verifyPassword(hash: string | null | undefined, password: string): Promise<boolean> {
  decoy ??= hashPassword('decoy password that matches nothing');
  const target = hash ?? (await decoy);
  try {
    return (await argon2.verify(target, password)) && Boolean(hash);
  } catch {
    return false;
  }
}
