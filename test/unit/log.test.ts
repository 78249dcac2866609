import { createLogger } from '../../src/log.ts';
import { generateSigningKey } from '../../src/storage/signing_keys.ts';

function capture(): { lines: string[]; write(line: string): void } {
  const lines: string[] = [];
  return { lines, write: (line: string) => void lines.push(line) };
}

test('a private signing key handed to the logger is redacted', async () => {
  const out = capture();
  const key = await generateSigningKey('RS256');
  createLogger('info', out).info({ key }, 'loaded key');
  const logged = JSON.parse(out.lines[0]!) as { key: Record<string, string> };
  expect(logged.key.kid).toBe(key.kid);
  for (const part of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(logged.key[part]).toBe('[redacted]');
  expect(out.lines[0]).not.toContain(key.d);
});

test('client secrets, passwords, tokens and credentials headers are redacted', () => {
  const out = capture();
  createLogger('info', out).info({
    client: { client_id: 'abc', client_secret: 's3cret-value' },
    form: { password: 'hunter2', refresh_token: 'rt-value', code: 'code-value' },
    req: { headers: { authorization: 'Basic Zm9vOmJhcg==', cookie: '_session=xyz' } },
  });
  for (const secret of ['s3cret-value', 'hunter2', 'rt-value', 'code-value', 'Zm9vOmJhcg', '_session=xyz']) {
    expect(out.lines[0]).not.toContain(secret);
  }
  expect(out.lines[0]).toContain('"client_id":"abc"');
});
