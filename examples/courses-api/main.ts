import { createServer } from 'node:http';
import pg from 'pg';
import { protect } from 'gatehouse/rs';
import { coursesApi } from './app.ts';
import { createTables } from './courses_store.ts';
import { exampleConfig } from './config.ts';

/** `npm run example:courses`: the courses API on PORT, protected by the Gatehouse at ISSUER. */
const config = exampleConfig(process.env);
const db = new pg.Pool({ connectionString: config.databaseUrl });
await createTables(db);
const guard = protect({
  issuer: config.issuer,
  clientId: config.clientId,
  clientSecret: config.clientSecret,
  cacheSeconds: config.cacheSeconds,
  acceptRestricted: config.acceptRestricted,
  loginScope: config.loginScope,
});
const server = createServer(coursesApi(db, guard).callback()).listen(config.port, () => {
  console.log(`courses API on http://localhost:${config.port}, tokens from ${config.issuer}`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => server.close(() => void db.end()));
}
