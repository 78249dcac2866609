import { createServer } from 'node:http';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { openServices } from './services.ts';
import { createApp } from './app.ts';
import { runJanitor } from './storage/janitor.ts';

/**
 * How long requests in flight may take to finish once the server stops accepting: far longer than
 * any page or token request, and bounded, so the supervisor's own SIGKILL (Docker's --stop-timeout,
 * Kubernetes' terminationGracePeriodSeconds: set above SHUTDOWN_DRAIN_SECONDS + 10) never comes.
 */
const IN_FLIGHT_LIMIT_MS = 10_000;

/**
 * How long an idle keep-alive connection stays open: longer than load balancers keep theirs to a
 * backend (60 s: AWS ALB, nginx's keepalive_timeout, HAProxy's usual timeouts). With Node's 5 s the
 * server closes a connection just as the balancer sends a request on it, which it answers 502.
 * Shutdown still closes idle connections at once (server.closeIdleConnections).
 */
const KEEP_ALIVE_MS = 65_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const services = await openServices(config, {
    warn: (message) => logger.warn({ knex: String(message) }, 'database'),
    error: (fields, message) => logger.error(fields, message),
  });
  let draining = false;
  const provider = await createApp({ config, logger, ...services, draining: () => draining });
  const server = createServer(provider.callback());
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.listen(config.port, config.host);
  await once(server, 'listening');
  logger.info({ issuer: config.issuer, port: (server.address() as AddressInfo).port, database: services.database.kind, redis: Boolean(services.redis) }, 'gatehouse listening');

  const janitor = config.janitorIntervalSeconds > 0
    ? setInterval(() => {
      runJanitor(services.database.knex, { auditRetentionDays: config.auditRetentionDays }).then(
        (result) => logger.info(result, 'janitor removed expired rows'),
        (error: unknown) => logger.warn({ err: error }, 'janitor failed'),
      );
    }, config.janitorIntervalSeconds * 1000).unref()
    : undefined;

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    // A second signal is common (Ctrl-C reaches npm and node, and npm forwards it again): one
    // shutdown, and no default handler left to kill the process halfway through it.
    if (stopping) return;
    stopping = true;
    const began = Date.now();
    // SIGTERM is a supervisor or orchestrator replacing this instance behind a load balancer:
    // /readyz turns 503 and requests are still served until its health check has noticed.
    // SIGINT is someone at a terminal, with nothing in front to wait for.
    const drainSeconds = signal === 'SIGTERM' ? config.shutdownDrainSeconds : 0;
    draining = true;
    logger.info({ drainSeconds, signal }, 'shutting down');
    clearInterval(janitor);
    await delay(drainSeconds * 1000);
    server.close();
    server.closeIdleConnections();
    logger.info({ afterMs: Date.now() - began }, 'stopped accepting connections');
    // A request that never ends (a stuck upstream, a client reading nothing) must not keep the
    // old instance alive past the supervisor's own kill timeout.
    const forced = setTimeout(() => {
      logger.warn({ afterMs: Date.now() - began }, 'requests still in flight: closing their connections');
      server.closeAllConnections();
    }, IN_FLIGHT_LIMIT_MS);
    await once(server, 'close');
    clearTimeout(forced);
    await services.close();
    logger.info({ afterMs: Date.now() - began }, 'stopped');
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
