import { errorResponse } from '../../src/rs/challenge.ts';
import { ResourceServerError } from '../../src/rs/errors.ts';

test('no token: 401 with a bare Bearer challenge and no error code (RFC 6750 section 3.1)', () => {
  const response = errorResponse(new ResourceServerError('missing_token', 'this resource needs a bearer token'));
  expect(response).toEqual({ status: 401, headers: { 'www-authenticate': 'Bearer' }, body: { error_description: 'this resource needs a bearer token' } });
});

test('a bad token: 401 invalid_token with its description; quotes and backslashes cannot break the header', () => {
  const response = errorResponse(new ResourceServerError('invalid_token', 'unexpected "aud" claim \\ value'));
  expect(response.status).toBe(401);
  expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token", error_description="unexpected aud claim  value"');
  expect(response.body).toEqual({ error: 'invalid_token', error_description: 'unexpected "aud" claim \\ value' });
});

test('a missing scope: 403 insufficient_scope with the scope attribute', () => {
  const response = errorResponse(new ResourceServerError('insufficient_scope', 'needs update', { scope: 'update' }));
  expect(response.status).toBe(403);
  expect(response.headers['www-authenticate']).toBe('Bearer error="insufficient_scope", error_description="needs update", scope="update"');
  expect(response.body).toEqual({ error: 'insufficient_scope', error_description: 'needs update', scope: 'update' });
});

test('Gatehouse unreachable: 503 without a challenge (the token is not at fault)', () => {
  const response = errorResponse(new ResourceServerError('temporarily_unavailable', 'token introspection did not answer'));
  expect(response).toEqual({ status: 503, headers: {}, body: { error: 'temporarily_unavailable', error_description: 'token introspection did not answer' } });
});
