import { base64url, createLocalJWKSet, errors, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTVerifyGetKey } from 'jose';
import type { TokenAnswer } from '../../src/rs/auth.ts';
import { verifyJwtAccessToken } from '../../src/rs/jwt_access_token.ts';

const ISSUER = 'https://login.example.edu';
let keys: JWTVerifyGetKey;
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let privateKey: PrivateKey;
let otherKey: PrivateKey;
let publicJwk: JWK;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'main', alg: 'RS256' };
  keys = createLocalJWKSet({ keys: [publicJwk] });
});

/** A Gatehouse-shaped RFC 9068 access token, with `change` applied. */
interface Change {
  claims?: Record<string, unknown>;
  typ?: string;
  kid?: string;
  /** Signed by another issuer's key, under a kid the JWKS has. */
  foreign?: boolean;
  expiresIn?: string;
  notBefore?: string;
}

async function token(change: Change = {}) {
  return new SignJWT({ client_id: 'portal', scope: 'openid auth-cas read', username: 'alice', filters: ['course_org:MITx'], ...change.claims })
    .setProtectedHeader({ alg: 'RS256', typ: change.typ ?? 'at+jwt', kid: change.kid ?? 'main' })
    .setIssuer(ISSUER)
    .setAudience(ISSUER)
    .setSubject('p-1')
    .setIssuedAt()
    .setExpirationTime(change.expiresIn ?? '10m')
    .setNotBefore(change.notBefore ?? '0s')
    .sign(change.foreign ? otherKey : privateKey);
}

const refusal = (answer: TokenAnswer) => ('error' in answer ? answer.error.code : 'accepted');

test('a valid token gives the person\'s Auth and its exp', async () => {
  const answer = await verifyJwtAccessToken(await token(), keys, ISSUER, 'auth-cas');
  expect('auth' in answer && answer.auth).toEqual({
    sub: 'p-1', clientId: 'portal', scopes: ['openid', 'auth-cas', 'read'], filters: { course_org: ['MITx'] }, username: 'alice', user: true,
  });
  expect('auth' in answer && answer.exp).toBeGreaterThan(Date.now() / 1000);
});

test('an expired token is invalid_token, and says so', async () => {
  const answer = await verifyJwtAccessToken(await token({ expiresIn: '-1m' }), keys, ISSUER, 'auth-cas');
  expect('error' in answer && answer.error.message).toBe('the token has expired');
});

test.each<[string, Change]>([
  ['another issuer\'s signature', { foreign: true }],
  ['a key the JWKS does not have (a restricted key, say)', { kid: 'restricted' }],
  ['typ JWT rather than at+jwt (an id_token)', { typ: 'JWT' }],
  ['a sender-constrained token (cnf)', { claims: { cnf: { jkt: 'abc' } } }],
  ['no client_id', { claims: { client_id: undefined } }],
])('%s is invalid_token', async (_, change) => {
  expect(refusal(await verifyJwtAccessToken(await token(change), keys, ISSUER, 'auth-cas'))).toBe('invalid_token');
});

/** Header and claims as given, signed with nothing or with `secret` (HS256). */
async function forged(header: Record<string, unknown>, secret?: Uint8Array): Promise<string> {
  const claims = { iss: ISSUER, aud: ISSUER, sub: 'p-1', client_id: 'portal', scope: 'read', exp: Math.floor(Date.now() / 1000) + 600 };
  if (secret) return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', ...header }).sign(secret);
  return `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(claims))}.`;
}

test.each<[string, () => Promise<string>]>([
  ['alg none (unsigned)', () => forged({ alg: 'none', typ: 'at+jwt', kid: 'main' })],
  ['HS256 keyed with the published public key', () => forged({ typ: 'at+jwt', kid: 'main' }, new TextEncoder().encode(JSON.stringify(publicJwk)))],
  ['nbf in the future', () => token({ notBefore: '5m' })],
  ['no exp', async () => new SignJWT({ client_id: 'portal', scope: 'read' }).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'main' }).setIssuer(ISSUER).setAudience(ISSUER).sign(privateKey)],
])('%s is invalid_token', async (_, make) => {
  expect(refusal(await verifyJwtAccessToken(await make(), keys, ISSUER, 'auth-cas'))).toBe('invalid_token');
});

test('a token for another resource server is invalid_token', async () => {
  const answer = await verifyJwtAccessToken(await token(), keys, 'https://other.example.edu', 'auth-cas');
  expect(refusal(answer)).toBe('invalid_token');
});

test('keys that cannot be fetched are an outage (503), not a verdict on the token', async () => {
  const unreachable: JWTVerifyGetKey = async () => {
    throw new errors.JWKSTimeout();
  };
  await expect(verifyJwtAccessToken(await token(), unreachable, ISSUER, 'auth-cas')).rejects.toMatchObject({ code: 'temporarily_unavailable', status: 503 });
  const refused: JWTVerifyGetKey = async () => {
    throw new TypeError('fetch failed');
  };
  await expect(verifyJwtAccessToken(await token(), refused, ISSUER, 'auth-cas')).rejects.toMatchObject({ code: 'temporarily_unavailable' });
});
