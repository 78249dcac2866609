import { AuditWriter } from '../../src/storage/audit_log.ts';
import { openDatabase } from '../../src/storage/database.ts';
import { TEST_POSTGRES_URL } from '../support/env.ts';
import { proxyInFront } from '../support/tcp_proxy.ts';

test('shutting down while Postgres does not answer says how many audit events are lost, rather than that they are kept', async () => {
  const { proxy, url } = await proxyInFront(TEST_POSTGRES_URL);
  const db = await openDatabase({ kind: 'postgres', url });
  const said: { message: string; events: unknown }[] = [];
  const writer = new AuditWriter(db.knex, { error: (fields, message) => said.push({ message, events: fields.events }) }, { flushMs: 50, maxBuffered: 10_000 });
  try {
    proxy.freeze();
    for (let n = 1; n <= 3; n += 1) writer.record({ event: 'token.issued', actor: 'client:job', clientId: 'job', detail: { n } });
    writer.record({ event: 'token.issued', actor: 'client:job', clientId: 'job', detail: { n: 3 } });
    await writer.close();
    expect(said.at(-1)).toEqual({ message: 'audit events lost at shutdown: the database did not take them', events: 4 });
    expect(writer.dropped).toBe(4);
  } finally {
    proxy.thaw();
    await db.close();
    await proxy.close();
  }
});
