import { newClientId } from '../../src/admin/client_id.ts';

test('client ids are 16 letters and digits, never starting with - (an option to the CLI), and do not repeat', () => {
  // Ids of base64url would start with - or _ once in 32: among 5000, surely.
  const ids = Array.from({ length: 5000 }, newClientId);
  for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9]{16}$/);
  expect(new Set(ids).size).toBe(ids.length);
  // Every symbol is drawn: the first position alone sees all 62 within 5000 draws.
  expect(new Set(ids.map((id) => id[0])).size).toBe(62);
});
