import { createLocalJWKSet, errors, exportJWK, generateKeyPair, SignJWT, type JWTVerifyGetKey } from 'jose';
import type { TokenAnswer } from '../../src/rs/auth.ts';
import { verifyJwtAccessToken } from '../../src/rs/jwt_access_token.ts';

const ISSUER = 'https://login.example.edu';
let keys: JWTVerifyGetKey;
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let privateKey: PrivateKey;
let otherKey: PrivateKey;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'main', alg: 'RS256' }] });
});

/** A Gatehouse-shaped RFC 9068 access token, with `change` applied. */
interface Change {
  claims?: Record<string, unknown>;
  typ?: string;
  kid?: string;
  /** Signed by another issuer's key, under a kid the JWKS has. */
  foreign?: boolean;
  expiresIn?: string;
}

async function token(change: Change = {}) {
  return new SignJWT({ client_id: 'portal', scope: 'openid auth-cas read', username: 'alice', filters: ['course_org:MITx'], ...change.claims })
    .setProtectedHeader({ alg: 'RS256', typ: change.typ ?? 'at+jwt', kid: change.kid ?? 'main' })
    .setIssuer(ISSUER)
    .setAudience(ISSUER)
    .setSubject('p-1')
    .setIssuedAt()
    .setExpirationTime(change.expiresIn ?? '10m')
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
