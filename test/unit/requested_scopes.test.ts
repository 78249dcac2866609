import { clientCredentialsScopes, parseScope } from '../../src/policy/requested_scopes.ts';

test.each([
  [undefined, []],
  ['', []],
  ['read', ['read']],
  ['read  update read', ['read', 'update']],
])('parseScope(%j) is %j', (scope, expected) => {
  expect(parseScope(scope)).toEqual(expected);
});

test.each([
  [['read'], ['auth-none', 'read'], { ok: true, granted: ['read'] }],
  [[], ['read'], { ok: true, granted: [] }],
  [['read', 'delete'], ['read'], { ok: false, error: 'invalid_scope', description: 'scope not allowed for this client: delete', scope: 'delete' }],
  [['x', 'y'], [], { ok: false, error: 'invalid_scope', description: 'scope not allowed for this client: x y', scope: 'x y' }],
])('requested %j with allowed %j decides %j', (requested, allowed, decision) => {
  expect(clientCredentialsScopes(requested, allowed)).toEqual(decision);
});
