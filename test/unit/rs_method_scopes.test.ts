import { ResourceServerError } from '../../src/rs/errors.ts';
import { assertScopes, methodScopeTable, scopesForMethod } from '../../src/rs/method_scopes.ts';

test('by default each method needs its generic scope', () => {
  const table = methodScopeTable();
  expect(Object.fromEntries([...table].map(([method, scopes]) => [method, scopes.join(' ')]))).toEqual({
    GET: 'read', HEAD: 'read', POST: 'create', PUT: 'update', PATCH: 'update', DELETE: 'delete',
  });
});

test('an override replaces the scopes of the methods it names, in any case, and may list several', () => {
  const table = methodScopeTable({ get: 'grades', POST: ['create', 'grades'], OPTIONS: 'read' });
  expect(scopesForMethod(table, 'GET')).toEqual(['grades']);
  expect(scopesForMethod(table, 'post')).toEqual(['create', 'grades']);
  expect(scopesForMethod(table, 'OPTIONS')).toEqual(['read']);
  expect(scopesForMethod(table, 'DELETE')).toEqual(['delete']);
});

test('a method the table does not name is refused with 405, not let through', () => {
  for (const method of ['OPTIONS', 'TRACE', 'PROPFIND']) {
    expect(() => scopesForMethod(methodScopeTable(), method)).toThrow(expect.objectContaining({ code: 'method_not_allowed', status: 405 }));
  }
});

test('a missing scope is insufficient_scope naming every scope the request needs', () => {
  expect(() => assertScopes(['read', 'update'], ['update'])).not.toThrow();
  let error: ResourceServerError | undefined;
  try {
    assertScopes(['read', 'create'], ['create', 'grades']);
  } catch (thrown) {
    error = thrown as ResourceServerError;
  }
  expect(error).toBeInstanceOf(ResourceServerError);
  expect(error).toMatchObject({ code: 'insufficient_scope', status: 403, scope: 'create grades' });
  expect(error!.message).toBe('the token lacks the scope this request needs: grades');
});
