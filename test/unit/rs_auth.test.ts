import { authFromClaims, parseFilters } from '../../src/rs/auth.ts';

const ISSUER = 'https://login.example.edu';
const claims = { iss: ISSUER, aud: ISSUER, client_id: 'portal', sub: 'p-1', username: 'alice', scope: 'openid auth-cas read course_org', filters: ['course_org:MITx'] };

test('org filters are grouped by kind; malformed entries are skipped', () => {
  expect(parseFilters(['course_org:MITx', 'course_org:HarvardX', 'user_org:Harvard', 'nocolon', ':x', 'y:', 7])).toEqual({
    course_org: ['MITx', 'HarvardX'],
    user_org: ['Harvard'],
  });
  expect(parseFilters(undefined)).toEqual({});
  expect(parseFilters(['course_org:edX:Berkeley'])).toEqual({ course_org: ['edX:Berkeley'] });
});

test('a person\'s token: subject, client, scopes, filters, username, and user by the login scope', () => {
  expect(authFromClaims(claims, ISSUER, 'auth-cas')).toEqual({
    sub: 'p-1', clientId: 'portal', scopes: ['openid', 'auth-cas', 'read', 'course_org'], filters: { course_org: ['MITx'] }, username: 'alice', user: true,
  });
  expect(authFromClaims(claims, ISSUER, 'auth-columbia').user).toBe(false);
});

test('a server\'s token has no subject and is no person\'s', () => {
  const auth = authFromClaims({ iss: ISSUER, aud: [ISSUER], client_id: 'job', scope: 'auth-none read' }, ISSUER, 'auth-cas');
  expect(auth).toMatchObject({ sub: undefined, username: undefined, user: false, filters: {}, scopes: ['auth-none', 'read'] });
});

test.each([
  ['another issuer', { ...claims, iss: 'https://evil.example' }, 'the token was issued by another issuer'],
  ['no audience (a userinfo-only token)', { ...claims, aud: undefined }, 'the token is not meant for this resource server'],
  ['another audience', { ...claims, aud: ['https://other.example'] }, 'the token is not meant for this resource server'],
  ['no client', { ...claims, client_id: undefined }, 'the token names no client'],
])('%s is invalid_token', (_, bad, message) => {
  expect(() => authFromClaims(bad, ISSUER, 'auth-cas')).toThrow(expect.objectContaining({ code: 'invalid_token', message }));
});

test('the Auth is frozen: one cached answer serves many requests', () => {
  const auth = authFromClaims(claims, ISSUER, 'auth-cas');
  expect(() => (auth.scopes as string[]).push('delete')).toThrow(TypeError);
  expect(() => (auth.filters.course_org as string[]).push('HarvardX')).toThrow(TypeError);
  expect(Object.isFrozen(auth)).toBe(true);
});
