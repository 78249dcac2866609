import { BlockList, isIP, isIPv6 } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import type Koa from 'koa';
import type { Middleware } from 'koa';
import type { Config, TrustProxy } from './config.ts';
import type { Logger } from './log.ts';

/** Where koa (and so oidc-provider) reads the client address from: written here for every request. */
const CLIENT_ADDRESS_HEADER = 'x-gatehouse-client-address';

/**
 * Every request is seen as a request to ISSUER: koa, and oidc-provider's contexts built from the
 * same request, take host and scheme from headers set here, so discovery, redirects and forms
 * never carry a Host or X-Forwarded-Host someone sent, and an https ISSUER gets Secure cookies
 * behind a TLS-terminating proxy whatever it forwards. The client address is the rightmost
 * X-Forwarded-For entry the trusted proxies did not add. Runs before any other middleware.
 */
export function serveAsIssuer(app: Koa, config: Config, logger: Logger): Middleware {
  const issuer = new URL(config.issuer);
  const scheme = issuer.protocol.slice(0, -1);
  const clientAddress = clientAddressReader(config.trustProxy);
  // koa trusts these headers only because this middleware has just written them.
  app.proxy = true;
  app.proxyIpHeader = CLIENT_ADDRESS_HEADER;
  let checked = false;
  return (ctx, next) => {
    const headers = ctx.req.headers;
    if (!checked && (headers['x-forwarded-proto'] || headers['x-forwarded-host'])) {
      checked = true;
      const forwarded = proxyMismatch(issuer, headers);
      if (forwarded) logger.warn({ event: 'proxy.mismatch', issuer: config.issuer, forwarded }, `ISSUER is ${config.issuer} but the proxy forwards ${forwarded}: Gatehouse follows ISSUER; correct whichever is wrong`);
    }
    // A request line may name a whole URL (absolute-form, RFC 9112 §3.2.2), which koa's href
    // would take as it stands: keep only its path and query, here and in the contexts built later.
    if (!ctx.req.url?.startsWith('/')) {
      const target = URL.canParse(ctx.req.url ?? '', issuer.href) ? new URL(ctx.req.url!, issuer) : new URL('/', issuer);
      ctx.req.url = ctx.originalUrl = ctx.request.originalUrl = `${target.pathname}${target.search}`;
    }
    headers[CLIENT_ADDRESS_HEADER] = clientAddress(ctx.req.socket.remoteAddress ?? '', String(headers['x-forwarded-for'] ?? ''));
    headers.host = issuer.host;
    headers['x-forwarded-proto'] = scheme;
    delete headers['x-forwarded-host'];
    return next();
  };
}

/** The client's address: the socket's peer, or behind trusted proxies the entry they were handed. */
export function clientAddressReader(trust: TrustProxy): (peer: string, forwardedFor: string) => string {
  if (trust.kind === 'none') return (peer) => plainAddress(peer);
  if (trust.kind === 'hops') {
    return (peer, forwardedFor) => {
      const chain = hops(peer, forwardedFor);
      return chain[Math.min(trust.hops, chain.length - 1)]!;
    };
  }
  const proxies = blockList(trust.ranges);
  return (peer, forwardedFor) => {
    const chain = hops(peer, forwardedFor);
    return chain.find((address) => !proxies.check(address, isIPv6(address) ? 'ipv6' : 'ipv4')) ?? chain.at(-1)!;
  };
}

/**
 * Nearest first: the socket's peer, then the X-Forwarded-For entries right to left, each added by
 * the hop before it. The chain ends at the first entry that is not an address: no proxy wrote it,
 * so it and everything left of it is the client's own text, which must never become the address
 * sign-in limits count and the audit log records (with TRUST_PROXY set too high, it would).
 */
function hops(peer: string, forwardedFor: string): string[] {
  const chain = [plainAddress(peer)];
  for (const entry of forwardedFor.split(',').reverse()) {
    const address = plainAddress(withoutPort(entry.trim()));
    if (isIP(address) === 0) break;
    chain.push(address);
  }
  return chain;
}

function blockList(ranges: string[]): BlockList {
  const list = new BlockList();
  for (const range of ranges) {
    const [address, prefix] = range.split('/') as [string, string | undefined];
    const family = isIPv6(address) ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return list;
}

/**
 * Some proxies append the client's port (Azure Application Gateway: 203.0.113.7:51234, and
 * [2001:db8::7]:51234 for IPv6). Read as not-an-address, such an entry would end the chain and
 * make the proxy itself the client, every person behind it sharing one sign-in limit.
 */
function withoutPort(entry: string): string {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3}))(?::\d{1,5})?$/.exec(entry);
  return match ? (match[1] ?? match[2])! : entry;
}

/** IPv4 as 1.2.3.4 also when a dual-stack socket reports ::ffff:1.2.3.4, so one client has one key. */
function plainAddress(address: string): string {
  return address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
}

/** What the proxy says the public origin is, when it is not ISSUER's. */
function proxyMismatch(issuer: URL, headers: IncomingHttpHeaders): string | undefined {
  const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value)?.split(',')[0]!.trim();
  const said = `${first(headers['x-forwarded-proto']) || issuer.protocol.slice(0, -1)}://${first(headers['x-forwarded-host']) || issuer.host}`.slice(0, 200);
  return URL.canParse(said) && new URL(said).origin === issuer.origin ? undefined : said;
}
