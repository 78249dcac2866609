import { bearerToken, looksLikeJwt } from '../../src/rs/bearer_token.ts';
import { ResourceServerError } from '../../src/rs/errors.ts';

const codeOf = (header: string | undefined) => {
  try {
    bearerToken(header);
    return 'ok';
  } catch (error) {
    return (error as ResourceServerError).code;
  }
};

test.each([
  [undefined, 'missing_token'],
  ['', 'missing_token'],
  ['Basic YWxhZGRpbjpvcGVuc2VzYW1l', 'missing_token'],
  ['Bearer', 'invalid_token'],
  ['Bearer ', 'invalid_token'],
  ['Bearer two tokens', 'invalid_token'],
  ['Bearer "quoted"', 'invalid_token'],
  ['Bearer abc,def', 'invalid_token'],
  ['Bearer abc=def', 'invalid_token'],
  ['Bearer Xy-._~+/9==', 'ok'],
  ['bearer lower-case-scheme', 'ok'],
  ['  Bearer   spaced  ', 'ok'],
])('Authorization %p: %s', (header, code) => {
  expect(codeOf(header)).toBe(code);
});

test('the token is what follows the scheme', () => {
  expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
});

test('three base64url parts are a JWT; an opaque token is not', () => {
  expect(looksLikeJwt('eyJh.eyJz.c2ln')).toBe(true);
  expect(looksLikeJwt('Zm9vYmFyYmF6cXV4')).toBe(false);
  expect(looksLikeJwt('a.b')).toBe(false);
  expect(looksLikeJwt('a.b.c.d')).toBe(false);
});
