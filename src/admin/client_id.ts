import { randomInt } from 'node:crypto';

// Letters and digits only: an id starting with `-` would read as an option on the command line
// (`gatehouse clients show -x…` cannot name it).
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
// 16 of 62 symbols: 95 bits, about the 96 of the 12 random bytes ids had before.
const LENGTH = 16;

/** A new random client id (randomInt draws each symbol without modulo bias). */
export function newClientId(): string {
  return Array.from({ length: LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
}
