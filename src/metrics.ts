import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Provider } from 'oidc-provider';
import { isUnavailable } from './storage/errors.ts';

export interface Metrics {
  registry: Registry;
  requestDuration: Histogram<'route' | 'method' | 'status'>;
}

/** Prometheus metrics: process defaults, HTTP by route, and the provider's grant and error events. */
export function createMetrics(provider: Provider): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requestDuration = new Histogram({
    name: 'gatehouse_http_request_duration_seconds',
    help: 'HTTP requests by route (oidc-provider route name or our own), method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const grants = new Counter({
    name: 'gatehouse_grants_total',
    help: 'Token endpoint outcomes by grant type.',
    labelNames: ['grant_type', 'outcome'] as const,
    registers: [registry],
  });
  const serverErrors = new Counter({ name: 'gatehouse_server_errors_total', help: 'Requests that failed inside Gatehouse.', registers: [registry] });
  provider.on('grant.success', (ctx) => grants.inc({ grant_type: String(ctx.oidc.params?.grant_type), outcome: 'success' }));
  provider.on('grant.error', (ctx) => grants.inc({ grant_type: String(ctx.oidc.params?.grant_type ?? 'unknown'), outcome: 'error' }));
  // An outage is answered 503 (src/error_pages.ts) and shows in /readyz, not here.
  provider.on('server_error', (_ctx, error: unknown) => {
    if (!isUnavailable(error)) serverErrors.inc();
  });
  return { registry, requestDuration };
}
