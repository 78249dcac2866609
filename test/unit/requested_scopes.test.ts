import { parseScope } from '../../src/policy/requested_scopes.ts';

test.each([
  [undefined, []],
  ['', []],
  ['read', ['read']],
  ['read  update read', ['read', 'update']],
])('parseScope(%j) is %j', (scope, expected) => {
  expect(parseScope(scope)).toEqual(expected);
});
