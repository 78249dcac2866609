import { decideScopes, liveScopes, orgFilters, type ScopeRequest, type EnterpriseScope } from '../../src/policy/scope_policy.ts';

const enterprise = new Map<string, EnterpriseScope>([
  ['grades', { name: 'grades', group: 'registrar', description: 'Read grades' }],
  ['auth-cas', { name: 'auth-cas', group: 'active-people', description: 'Sign in' }],
]);
const base: ScopeRequest = {
  flow: 'user',
  requested: [],
  allowed: ['openid', 'profile', 'read', 'update', 'auth-cas', 'auth-none', 'grades', 'user_org', 'course_org'],
  loginScope: 'auth-cas',
  enterprise,
  organizations: { course_org: 'MITx' },
  memberships: new Set(['registrar', 'active-people']),
};
const decide = (overrides: Partial<ScopeRequest>) => decideScopes({ ...base, ...overrides });

describe('allowed vs requested', () => {
  test.each([
    [{ requested: ['read', 'delete'] }, 'scope not allowed for this client: delete'],
    [{ requested: ['launch'], allowed: [] }, 'scope not allowed for this client: launch'],
    [{ requested: ['auth-none'] }, 'scope only for client credentials: auth-none'],
    [{ flow: 'client_credentials', requested: ['auth-cas', 'read'] }, 'scope only for a signed-in person: auth-cas'],
    [{ flow: 'client_credentials', requested: ['openid', 'profile'] }, 'scope only for a signed-in person: openid profile'],
  ] as [Partial<ScopeRequest>, string][])('%j is invalid_scope: %s', (overrides, description) => {
    expect(decide(overrides)).toMatchObject({ ok: false, error: 'invalid_scope', description });
  });
});

describe('what is granted', () => {
  test.each([
    ['generic scopes are always granted in a user flow', { requested: ['read', 'update'] }, ['read', 'update'], []],
    ['generic scopes are always granted to a server', { flow: 'client_credentials', requested: ['auth-none', 'read'] }, ['auth-none', 'read'], []],
    ['OIDC scopes pass through in a user flow', { requested: ['openid', 'profile'] }, ['openid', 'profile'], []],
    ['an enterprise scope with the login scope and membership', { requested: ['auth-cas', 'grades'] }, ['auth-cas', 'grades'], []],
    ['an enterprise scope without the login scope is dropped', { requested: ['openid', 'grades'] }, ['openid'], ['grades']],
    ['an enterprise scope without membership is dropped', { requested: ['auth-cas', 'grades'], memberships: new Set(['active-people']) }, ['auth-cas'], ['grades']],
    ['the login scope without its group drops it and every enterprise scope', { requested: ['auth-cas', 'grades', 'read'], memberships: new Set(['registrar']) }, ['read'], ['auth-cas', 'grades']],
    ['before sign-in the decision is provisional: nothing is dropped for membership', { requested: ['auth-cas', 'grades'], memberships: undefined }, ['auth-cas', 'grades'], []],
    ['a server gets an enterprise scope it is allowed, with no membership', { flow: 'client_credentials', requested: ['grades'], memberships: undefined }, ['grades'], []],
    ['an org filter the client has is granted', { requested: ['course_org'] }, ['course_org'], []],
    ['a scope still allowed but no longer defined (a removed enterprise scope) is dropped, never granted', { requested: ['read', 'old-scope'], allowed: ['read', 'old-scope'] }, ['read'], ['old-scope']],
    ['an org filter the client lacks is dropped', { requested: ['user_org', 'course_org'] }, ['course_org'], ['user_org']],
  ] as [string, Partial<ScopeRequest>, string[], string[]][])('%s', (_name, overrides, granted, dropped) => {
    expect(decide(overrides)).toMatchObject({ ok: true, granted, dropped });
  });

  test('a login scope without a configured group only needs to be requested', () => {
    const withoutGroup = new Map([...enterprise].filter(([name]) => name !== 'auth-cas'));
    expect(decide({ enterprise: withoutGroup, requested: ['auth-cas'], memberships: new Set() })).toMatchObject({ granted: ['auth-cas'] });
  });
});

test('org filters become the filters claim', () => {
  expect(decide({ requested: ['course_org', 'read'] })).toMatchObject({ filters: ['course_org:MITx'] });
  expect(orgFilters(['user_org', 'course_org', 'read'], { user_org: 'Harvard', course_org: 'MITx' })).toEqual(['user_org:Harvard', 'course_org:MITx']);
  expect(orgFilters(['user_org'], {})).toEqual([]);
});

describe('live view at introspection', () => {
  test('still a member: the token keeps its scopes', () => {
    expect(liveScopes({ ...base, requested: ['auth-cas', 'grades'] })).toEqual({ active: true, granted: ['auth-cas', 'grades'], filters: [] });
  });
  test('removed from an enterprise group: that scope disappears', () => {
    expect(liveScopes({ ...base, requested: ['auth-cas', 'grades'], memberships: new Set(['active-people']) })).toEqual({ active: true, granted: ['auth-cas'], filters: [] });
  });
  test('removed from the login scope\'s group: the token is inactive', () => {
    expect(liveScopes({ ...base, requested: ['auth-cas', 'read'], memberships: new Set(['registrar']) })).toEqual({ active: false });
  });
  test('a scope the client is no longer allowed makes the token inactive', () => {
    expect(liveScopes({ ...base, requested: ['read'], allowed: ['update'] })).toEqual({ active: false });
  });
  test('a server token is unaffected by groups', () => {
    expect(liveScopes({ ...base, flow: 'client_credentials', requested: ['auth-none', 'grades'], memberships: undefined })).toEqual({ active: true, granted: ['auth-none', 'grades'], filters: [] });
  });
});
