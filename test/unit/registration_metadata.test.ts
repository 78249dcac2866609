import { registeredMetadata, registrationError } from '../../src/policy/registration_metadata.ts';
import type { RegistrationAllowance } from '../../src/policy/registration_allowance.ts';
import { scopeCatalogue } from '../../src/policy/scope_catalogue.ts';

const catalogue = scopeCatalogue('auth-cas', [{ name: 'grades', description: 'Your grades' }]);
const allowance: RegistrationAllowance = { kinds: ['web'], scopes: ['openid', 'profile', 'email', 'read'], restricted: false, consentSkip: false, organizations: {} };
const CB = 'https://portal.example.edu/cb';

function refusal(body: unknown, allowed: RegistrationAllowance = allowance) {
  try {
    registeredMetadata(body, allowed, catalogue);
  } catch (error) {
    return registrationError(error);
  }
  throw new Error('the registration was accepted');
}

test('a registration becomes the same client metadata the CLI would store; kind may be left out when the token allows one', () => {
  expect(registeredMetadata({ client_name: ' Portal ', redirect_uris: [CB], scope: 'openid read' }, allowance, catalogue)).toEqual({
    client_name: 'Portal', kind: 'web', application_type: 'web', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic', redirect_uris: [CB], post_logout_redirect_uris: [], allowed_scopes: 'openid read', scope: 'openid',
    consent: 'prompt', restricted: false, organizations: {}, access_token_format: 'opaque',
  });
});

test('allowed_scopes is accepted for scope, and the RFC fields a kind decides may be repeated', () => {
  const metadata = registeredMetadata({
    client_name: 'P', redirect_uris: [CB], allowed_scopes: 'openid', grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', application_type: 'web',
  }, allowance, catalogue);
  expect(metadata.allowed_scopes).toBe('openid');
  expect(refusal({ client_name: 'P', redirect_uris: [CB], scope: 'openid', allowed_scopes: 'read' })).toEqual({
    error: 'invalid_client_metadata', error_description: 'allowed_scopes must equal scope: they name the same list (send one)',
  });
  expect(refusal({ client_name: 'P', redirect_uris: [CB], allowed_scopes: ['read'] })?.error_description).toBe('allowed_scopes must be a string');
});

test.each([
  [{ kinds: ['web', 'spa'] }, { kind: 'server' }, 'kind server is not allowed by this initial access token (it allows web, spa)'],
  [{}, { scope: 'openid grades' }, 'scope: grades not allowed by this initial access token (it allows openid profile email read)'],
  [{ scopes: [] }, {}, 'scope: openid profile email not allowed by this initial access token (it allows no scope)'],
  [{}, { restricted: true }, 'restricted: a restricted client is not allowed by this initial access token'],
  [{}, { consent: 'skip' }, 'consent: skip is not allowed by this initial access token: the person is asked (prompt)'],
  [{ organizations: { course_org: 'MITx' } }, { organizations: { course_org: 'MITx', user_org: 'MITx' } }, 'organizations: user_org=MITx is not allowed by this initial access token'],
] as const)('with a token allowing %j, %j is refused: %s', (allowed, overrides, description) => {
  const wider = { ...allowance, ...allowed } as RegistrationAllowance;
  const kind = (overrides as { kind?: string }).kind;
  const body = { client_name: 'P', redirect_uris: kind === 'server' ? [] : [CB], ...overrides };
  expect(refusal(body, wider)).toEqual({ error: 'invalid_client_metadata', error_description: description });
});

test('what the token allows passes: restricted, consent skip, the organization it names, an enterprise scope it lists', () => {
  const wide: RegistrationAllowance = { kinds: ['server'], scopes: ['auth-none', 'grades', 'course_org'], restricted: true, consentSkip: true, organizations: { course_org: 'MITx' } };
  const metadata = registeredMetadata({ client_name: 'Grader', scope: 'auth-none grades course_org', restricted: true, consent: 'skip', organizations: { course_org: 'MITx' } }, wide, catalogue);
  expect(metadata).toMatchObject({ kind: 'server', restricted: true, access_token_format: 'jwt', consent: 'skip', organizations: { course_org: 'MITx' } });
});

test('a restricted client asking for opaque access tokens is refused, as the CLI refuses the two flags, not silently given JWTs', () => {
  const wide: RegistrationAllowance = { ...allowance, restricted: true };
  expect(refusal({ client_name: 'P', redirect_uris: [CB], restricted: true, access_token_format: 'opaque' }, wide)).toEqual({
    error: 'invalid_client_metadata', error_description: 'access_token_format opaque conflicts with restricted: a restricted client always gets JWT access tokens',
  });
  expect(registeredMetadata({ client_name: 'P', redirect_uris: [CB], restricted: true }, wide, catalogue).access_token_format).toBe('jwt');
});

test('policy_uri and tos_uri are kept, https only, as the CLI --policy-uri and --tos-uri are', () => {
  const links = { policy_uri: 'https://portal.example.edu/privacy', tos_uri: 'https://portal.example.edu/terms' };
  expect(registeredMetadata({ client_name: 'P', redirect_uris: [CB], ...links }, allowance, catalogue)).toMatchObject(links);
  expect(refusal({ client_name: 'P', redirect_uris: [CB], tos_uri: 'http://portal.example.edu/terms' })).toEqual({
    error: 'invalid_client_metadata', error_description: 'tos_uri must be an https URL: http://portal.example.edu/terms',
  });
});

test.each(['grant_types', 'response_types', 'token_endpoint_auth_method', 'application_type'])('%s nested 30,000 deep is refused naming the field, not a stack overflow', (field) => {
  const deep: unknown = JSON.parse(`${'['.repeat(30_000)}${']'.repeat(30_000)}`);
  expect(refusal({ client_name: 'P', redirect_uris: [CB], [field]: deep })).toEqual({ error: 'invalid_client_metadata', error_description: expect.stringMatching(new RegExp(`^${field}: .*\\(got an array\\)$`)) });
});

test('anything else thrown is not a registration error', () => {
  expect(registrationError(new Error('database down'))).toBeUndefined();
});
