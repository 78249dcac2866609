import { clientMetadata, clientSpec, ClientSpecError, type ClientInput, type ClientSpec } from '../../src/policy/client_kinds.ts';
import { scopeCatalogue } from '../../src/policy/scope_catalogue.ts';

const catalogue = scopeCatalogue('auth-cas');
const SERVER_WHY = 'it signs no one in (client credentials), and these are for a signed-in person';
function refusal(overrides: Partial<ClientSpec>): ClientSpecError {
  try {
    clientMetadata(spec(overrides), catalogue);
  } catch (error) {
    return error as ClientSpecError;
  }
  throw new Error('the client was accepted');
}
const spec = (overrides: Partial<ClientSpec>): ClientSpec => ({
  name: 'App',
  kind: 'web',
  redirectUris: ['https://app.example.edu/cb'],
  postLogoutRedirectUris: [],
  consent: 'prompt',
  restricted: false,
  accessTokenFormat: 'opaque',
  organizations: {},
  ...overrides,
});

test.each([
  ['web', { grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', allowed_scopes: 'openid profile email', scope: 'openid profile email' }],
  ['spa', { grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none', allowed_scopes: 'openid profile email', scope: 'openid profile email' }],
  ['server', { grant_types: ['client_credentials'], response_types: [], token_endpoint_auth_method: 'client_secret_basic', allowed_scopes: 'auth-none' }],
  ['resource-server', { grant_types: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic', allowed_scopes: '' }],
] as const)('a %s client gets the grant types, authentication and default scopes of its kind', (kind, expected) => {
  const userFacing = kind === 'web' || kind === 'spa';
  const metadata = clientMetadata(spec({ kind, redirectUris: userFacing ? ['https://app.example.edu/cb'] : [] }), catalogue);
  expect(metadata).toMatchObject({ kind, ...expected });
  // oidc-provider checks the OIDC part itself and refuses an empty scope string.
  if (kind === 'server' || kind === 'resource-server') expect(metadata).not.toHaveProperty('scope');
});

test('a restricted client always gets JWT access tokens', () => {
  expect(clientMetadata(spec({ restricted: true, accessTokenFormat: 'opaque' }), catalogue).access_token_format).toBe('jwt');
});

test('scopes are de-duplicated and kept in order; the OIDC part is also the standard scope', () => {
  const metadata = clientMetadata(spec({ scopes: ['openid', 'read', 'openid', 'email'] }), catalogue);
  expect(metadata.allowed_scopes).toBe('openid read email');
  expect(metadata.scope).toBe('openid email');
});

test.each([
  [{ name: '  ' }, '--name must not be empty'],
  [{ name: 'A'.repeat(101) }, '--name may be at most 100 characters'],
  [{ kind: 'web', redirectUris: [] }, 'a web client needs at least one --redirect-uri'],
  [{ kind: 'server', redirectUris: ['https://x.example/cb'] }, 'a server client has no redirect URIs: it never sends a browser here'],
  [{ redirectUris: ['/relative'] }, 'not an absolute URL: /relative'],
  [{ redirectUris: ['https://app.example.edu/cb#frag'] }, 'a redirect URI must not have a fragment: https://app.example.edu/cb#frag'],
  [{ redirectUris: ['http://app.example.edu/cb'] }, 'a redirect URI must use https (http only for localhost): http://app.example.edu/cb'],
  [{ postLogoutRedirectUris: ['javascript:alert(1)'] }, 'a redirect URI must use https (http only for localhost): javascript:alert(1)'],
  [{ scopes: ['openid', 'admin'] }, 'unknown scope "admin": see the scope catalogue in the README'],
  [{ backchannelLogoutUri: 'http://app.example.edu/logout' }, 'a back-channel logout URI must use https (http only for localhost): http://app.example.edu/logout'],
  [{ backchannelLogoutUri: 'https://app.example.edu/logout#x' }, 'a back-channel logout URI must not have a fragment: https://app.example.edu/logout#x'],
  [{ backchannelLogoutUri: 'logout' }, 'not an absolute URL: logout'],
  [{ kind: 'server', redirectUris: [], backchannelLogoutUri: 'https://app.example.edu/logout' }, 'a server client has no sessions to log out of: it takes no --backchannel-logout-uri'],
  [{ kind: 'server', redirectUris: [], scopes: ['auth-none', 'openid', 'read'] }, `a server client can never be granted openid: ${SERVER_WHY}`],
  [{ kind: 'server', redirectUris: [], scopes: ['profile', 'email', 'groups', 'offline_access'] }, `a server client can never be granted profile email groups offline_access: ${SERVER_WHY}`],
  [{ kind: 'server', redirectUris: [], scopes: ['auth-cas', 'read'] }, `a server client can never be granted auth-cas: ${SERVER_WHY}`],
  [{ kind: 'web', scopes: ['openid', 'auth-none'] }, 'a web client can never be granted auth-none: auth-none is for client credentials only'],
  [{ kind: 'spa', scopes: ['auth-none'] }, 'a spa client can never be granted auth-none: auth-none is for client credentials only'],
] as Array<[Partial<ClientSpec>, string]>)('%j is refused: %s', (overrides, message) => {
  const error = refusal(overrides);
  expect(error).toBeInstanceOf(ClientSpecError);
  expect(error.message).toBe(message);
});

test.each([
  [{ name: ' ' }, 'client_name must not be empty'],
  [{ name: 'é'.repeat(101) }, 'client_name may be at most 100 characters'],
  [{ kind: 'web', redirectUris: [] }, 'a web client needs at least one redirect_uris'],
  [{ redirectUris: ['http://app.example.edu/cb'] }, 'redirect_uris: a redirect URI must use https (http only for localhost): http://app.example.edu/cb'],
  [{ postLogoutRedirectUris: ['/bye'] }, 'post_logout_redirect_uris: not an absolute URL: /bye'],
  [{ scopes: ['admin'] }, 'scope: unknown scope "admin": see the scope catalogue in the README'],
  [{ logoUri: 'http://app.example.edu/logo.png' }, 'logo_uri must be an https URL: http://app.example.edu/logo.png'],
  [{ kind: 'server', redirectUris: [], backchannelLogoutUri: 'https://app.example.edu/logout' }, 'a server client has no sessions to log out of: it takes no backchannel_logout_uri'],
] as Array<[Partial<ClientSpec>, string]>)('the registration API names the metadata field of %j: %s', (overrides, description) => {
  expect(refusal(overrides).describeFor('metadata')).toBe(description);
});

test('clientSpec checks the enumerations, naming the field in each surface', () => {
  const input: ClientInput = { ...spec({}), kind: 'robot', organizations: {} };
  expect(() => clientSpec(input)).toThrow('--kind must be one of web, spa, server, resource-server (got robot)');
  const refused = (() => { try { clientSpec({ ...input, kind: 'web', organizations: { dept: 'Physics' } }); } catch (error) { return error as ClientSpecError; } throw new Error('accepted'); })();
  expect(refused.describeFor('metadata')).toBe('organizations must be one of user_org, course_org (got dept)');
  expect(clientSpec({ ...input, kind: 'server', organizations: { course_org: 'MITx' } })).toMatchObject({ kind: 'server', organizations: { course_org: 'MITx' } });
});

test('http redirect URIs are accepted for loopback development hosts', () => {
  for (const uri of ['http://localhost:8080/cb', 'http://127.0.0.1/cb', 'http://[::1]:3000/cb']) {
    expect(clientMetadata(spec({ redirectUris: [uri] }), catalogue).redirect_uris).toEqual([uri]);
  }
});

test('a back-channel logout URI is registered with session ids required, and only when given', () => {
  const uri = 'https://app.example.edu/redirect_uri?logout=backchannel';
  expect(clientMetadata(spec({ backchannelLogoutUri: uri }), catalogue)).toMatchObject({ backchannel_logout_uri: uri, backchannel_logout_session_required: true });
  expect(clientMetadata(spec({ backchannelLogoutUri: 'http://127.0.0.1:8080/logout' }), catalogue).backchannel_logout_uri).toBe('http://127.0.0.1:8080/logout');
  expect(clientMetadata(spec({}), catalogue)).not.toHaveProperty('backchannel_logout_uri');
  expect(clientMetadata(spec({}), catalogue)).not.toHaveProperty('backchannel_logout_session_required');
});

test.each([
  ['server', ['auth-none', 'read', 'grades', 'user_org']],
  ['web', ['openid', 'profile', 'email', 'groups', 'offline_access', 'auth-cas', 'read', 'grades', 'course_org']],
  ['spa', ['openid', 'offline_access', 'auth-cas', 'read']],
] as const)('a %s client may be allowed every scope it can be granted', (kind, scopes) => {
  const withGrades = scopeCatalogue('auth-cas', [{ name: 'grades', description: 'Your grades' }]);
  const redirectUris = kind === 'server' ? [] : ['https://app.example.edu/cb'];
  expect(clientMetadata(spec({ kind, redirectUris, scopes: [...scopes] }), withGrades).allowed_scopes).toBe(scopes.join(' '));
});
