import { authFromClaims } from '../../src/rs/auth.ts';
import { ResourceServerError } from '../../src/rs/errors.ts';
import { answerExpiry } from '../../src/rs/token_validator.ts';

const ISSUER = 'https://login.example.edu';
const NOW = Date.UTC(2026, 0, 1);
const auth = authFromClaims({ iss: ISSUER, aud: ISSUER, client_id: 'job', scope: 'auth-none read' }, ISSUER, 'auth-cas');
const expiringIn = (seconds: number) => ({ auth, exp: NOW / 1000 + seconds });

test('an accepted token is trusted for cacheSeconds, and never past its exp', () => {
  expect(answerExpiry(expiringIn(600), NOW, 30)).toBe(NOW + 30_000);
  expect(answerExpiry(expiringIn(5), NOW, 30)).toBe(NOW + 5_000);
  expect(answerExpiry(expiringIn(-1), NOW, 30)).toBeLessThan(NOW);
  expect(answerExpiry({ auth, exp: undefined }, NOW, 30)).toBe(NOW + 30_000);
});

test('a refusal (inactive, revoked, foreign) is kept for cacheSeconds; a bound of 0 keeps nothing', () => {
  const refused = { error: new ResourceServerError('invalid_token', 'the token is not active') };
  expect(answerExpiry(refused, NOW, 30)).toBe(NOW + 30_000);
  expect(answerExpiry(expiringIn(600), NOW, 0)).toBe(NOW);
});
