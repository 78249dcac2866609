import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { openServices } from './services.ts';
import { createApp } from './app.ts';
import { runJanitor } from './storage/janitor.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const services = await openServices(config, { warn: (message) => logger.warn({ knex: String(message) }, 'database') });
  const provider = await createApp({ config, logger, ...services });
  const server = createServer(provider.callback());
  server.listen(config.port, config.host);
  await once(server, 'listening');
  logger.info({ issuer: config.issuer, port: (server.address() as AddressInfo).port, database: services.database.kind, redis: Boolean(services.redis) }, 'gatehouse listening');

  const janitor = config.janitorIntervalSeconds > 0
    ? setInterval(() => {
      runJanitor(services.database.knex).then(
        (removed) => logger.info({ removed }, 'janitor removed expired rows'),
        (error: unknown) => logger.warn({ err: error }, 'janitor failed'),
      );
    }, config.janitorIntervalSeconds * 1000).unref()
    : undefined;

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    // A second signal is common (Ctrl-C reaches npm and node, and npm forwards it again): one
    // shutdown, and no default handler left to kill the process halfway through it.
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    clearInterval(janitor);
    server.close();
    server.closeIdleConnections();
    await once(server, 'close');
    await services.close();
    process.exit(0);
  };
  process.on('SIGTERM', (signal) => void shutdown(signal));
  process.on('SIGINT', (signal) => void shutdown(signal));
}

main().catch((error: unknown) => {
  // A bad environment is one line for the operator; anything else is a real failure.
  process.stderr.write(error instanceof ConfigError ? `${error.message}\n` : `gatehouse failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
