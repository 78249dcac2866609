import { protect } from '../../src/rs/protect.ts';

const good = { issuer: 'https://login.example.edu', clientId: 'api', clientSecret: 'secret' };

test.each([
  [{ ...good, issuer: 'login.example.edu' }, 'issuer must be an http(s) URL without a trailing slash'],
  [{ ...good, issuer: 'https://login.example.edu/' }, 'issuer must be an http(s) URL without a trailing slash'],
  [{ ...good, clientSecret: '' }, 'clientId and clientSecret are required'],
  [{ ...good, cacheSeconds: -1 }, 'cacheSeconds must be a number of seconds, 0 or more'],
  [{ ...good, timeoutSeconds: 0 }, 'timeoutSeconds must be a positive number of seconds'],
])('a bad option stops at construction, not at the first request: %p', (options, message) => {
  expect(() => protect(options)).toThrow(new TypeError(`protect(): ${message}`));
});

test('good options give a middleware with a per-route variant', () => {
  const guard = protect({ ...good, methodScopes: { GET: 'grades' } });
  expect(typeof guard).toBe('function');
  expect(typeof guard.withMethodScopes(false)).toBe('function');
});
