import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.ts';
import { registerClient, type RegisteredClient } from '../support/clients.ts';
import { basic, clientCredentialsToken, postForm } from '../support/http.ts';
import { pollUntil } from '../support/poll.ts';

/**
 * oidc-provider's router takes a path in any case and with a trailing slash
 * (lib/helpers/router.js): Gatehouse's middleware in front of an endpoint must see those
 * spellings as that endpoint too, or a request spelt so does the endpoint's work without it.
 */
describe('an oidc-provider endpoint spelt in another case or with a trailing slash', () => {
  let gh: RunningGatehouse;
  let job: RegisteredClient;

  beforeAll(async () => {
    gh = await startGatehouse();
    job = await registerClient(gh.services.database.knex, { name: 'Nightly job', kind: 'server', scopes: 'auth-none read' });
  });
  afterAll(() => gh.close());

  test.each(['/Token/Revocation', '/token/revocation/'])('a revocation at %s is in the audit log', async (path) => {
    const token = await clientCredentialsToken(gh.url, job, 'auth-none read');
    const revoked = await postForm(`${gh.url}${path}`, { token }, basic(job.client_id, job.client_secret));
    expect(revoked.status).toBe(200);
    const db = gh.services.database.knex;
    const rows = await pollUntil(
      () => db('audit_events').where({ event: 'token.revoked', client_id: job.client_id }),
      (found) => found.length > 0,
      3000,
    );
    expect(rows).toEqual([expect.objectContaining({ actor: `client:${job.client_id}` })]);
    await db('audit_events').where({ event: 'token.revoked' }).delete();
  });
});
