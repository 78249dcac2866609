import { compactVerify, importJWK } from 'jose';
import { SigningKeyRing, PUBLISHED_AFTER_RETIREMENT_SECONDS } from '../../src/provider/signing_key_ring.ts';
import { generateSigningKey, publicJwk, type StoredSigningKey } from '../../src/storage/signing_keys.ts';

const HOUR = 3600_000;
const rotatedAt = Date.parse('2026-11-30T12:00:00Z');

/** Three main RS256 keys: one retired at `rotatedAt`, its successor active from then, one next. */
async function ring() {
  const [old, current, next, restricted] = await Promise.all([1, 2, 3, 4].map(() => generateSigningKey('RS256')));
  const stored = (jwk: typeof old, activatesAt: number, retiredAt: number | null): StoredSigningKey => ({ jwk: jwk!, activatesAt: new Date(activatesAt), retiredAt: retiredAt === null ? null : new Date(retiredAt) });
  const keys = await SigningKeyRing.open(async () => ({
    main: [stored(next, rotatedAt + 2 * HOUR, null), stored(current, rotatedAt, rotatedAt + 2 * HOUR), stored(old, rotatedAt - 2 * HOUR, rotatedAt)],
    restricted: [stored(restricted, rotatedAt - 2 * HOUR, null)],
  }));
  return { keys, old: old!, current: current!, next: next! };
}

test('the newest key already active signs; a next key is published before it signs', async () => {
  const { keys, old, current, next } = await ring();
  expect(keys.signing('main', 'RS256', rotatedAt - 1).kid).toBe(old.kid);
  expect(keys.signing('main', 'RS256', rotatedAt).kid).toBe(current.kid);
  expect(keys.signing('main', 'RS256', rotatedAt + 2 * HOUR).kid).toBe(next.kid);
  expect(keys.published('main', rotatedAt - 1).map((k) => k.kid)).toContain(next.kid);
});

test('a retired key stays published as long as a token it signed can live, then drops out', async () => {
  const { keys, old } = await ring();
  const lastSigned = rotatedAt;
  expect(keys.published('main', lastSigned + PUBLISHED_AFTER_RETIREMENT_SECONDS * 1000 - 1).map((k) => k.kid)).toContain(old.kid);
  expect(keys.published('main', lastSigned + PUBLISHED_AFTER_RETIREMENT_SECONDS * 1000).map((k) => k.kid)).not.toContain(old.kid);
  expect(keys.published('main', lastSigned).every((k) => k.d === undefined)).toBe(true);
  expect(keys.published('restricted').map((k) => k.kid)).not.toContain(old.kid);
});

test('oidc-provider\'s keystore entry signs with the key its header names, even if another became active since', async () => {
  const { keys, old } = await ring();
  const [mainRs256] = keys.keystore();
  const data = [{ alg: 'RS256', kid: old.kid }, { sub: 'alice' }].map((part) => Buffer.from(JSON.stringify(part)).toString('base64url')).join('.');
  const signature = await mainRs256!.sign(Buffer.from(data));
  const jws = `${data}.${Buffer.from(signature).toString('base64url')}`;
  const { payload } = await compactVerify(jws, await importJWK(publicJwk(old), 'RS256'));
  expect(JSON.parse(Buffer.from(payload).toString())).toEqual({ sub: 'alice' });
});

test('reloads that overlap end with the keys the later one read, however long the earlier one takes', async () => {
  const [first, rotated, restricted] = await Promise.all([1, 2, 3].map(() => generateSigningKey('RS256')));
  const stored = (jwk: typeof first): StoredSigningKey => ({ jwk: jwk!, activatesAt: new Date(0), retiredAt: null });
  // The table as a load reads it when it starts; a reload's load answers only when the test says.
  let table = [first];
  const answers: (() => void)[] = [];
  let loads = 0;
  const keys = await SigningKeyRing.open(async () => {
    const read = { main: table.map(stored), restricted: [stored(restricted)] };
    if (loads++ > 0) await new Promise<void>((resolve) => answers.push(resolve));
    return read;
  });
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  const earlier = keys.reload();
  await tick();
  table = [first, rotated];
  const later = keys.reload();
  await tick();
  // The newest load still waiting answers first, then the earliest: out of order, when both had begun.
  answers.at(-1)!();
  await tick();
  answers[0]!();
  await earlier;
  await tick();
  answers.at(-1)!();
  await later;
  expect(keys.published('main').map((k) => k.kid)).toEqual([first!.kid, rotated!.kid]);
});
