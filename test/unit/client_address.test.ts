import { loadConfig } from '../../src/config.ts';
import { clientAddressReader } from '../../src/proxy_headers.ts';

const reader = (trustProxy: string) => clientAddressReader(loadConfig({ TRUST_PROXY: trustProxy }).trustProxy);

test.each([
  // TRUST_PROXY, socket peer, X-Forwarded-For, the address the sign-in limits count
  ['false', '198.51.100.9', '203.0.113.1', '198.51.100.9'],
  ['false', '::ffff:198.51.100.9', '', '198.51.100.9'],
  ['1', '10.0.0.2', '', '10.0.0.2'],
  ['1', '10.0.0.2', '203.0.113.7', '203.0.113.7'],
  // What the client wrote stays on the left: whatever it rotates, the proxy's entry is counted.
  ['1', '10.0.0.2', '1.2.3.4, 203.0.113.7', '203.0.113.7'],
  ['true', '10.0.0.2', 'forged, 1.2.3.4, 203.0.113.7', '203.0.113.7'],
  ['2', '10.0.0.2', '1.2.3.4, 203.0.113.7, 10.0.0.3', '203.0.113.7'],
  ['2', '10.0.0.2', '203.0.113.7', '203.0.113.7'],
  ['10.0.0.0/8', '10.0.0.2', '1.2.3.4, 203.0.113.7, 10.9.9.9', '203.0.113.7'],
  ['10.0.0.0/8,::1', '::1', '1.2.3.4, 203.0.113.7, ::ffff:10.9.9.9', '203.0.113.7'],
  // A peer that is not a listed proxy is the client, whatever its X-Forwarded-For says.
  ['10.0.0.0/8', '198.51.100.9', '203.0.113.7', '198.51.100.9'],
  ['10.0.0.0/8', '10.0.0.2', '10.0.0.1', '10.0.0.1'],
  // A proxy that appends the client's port (Azure Application Gateway) still names the client.
  ['1', '10.0.0.2', '192.0.2.1, 203.0.113.7:51234', '203.0.113.7'],
  ['1', '10.0.0.2', '[2001:db8::7]:51234', '2001:db8::7'],
  ['10.0.0.0/8', '10.0.0.2', '203.0.113.7:443, 10.0.0.3:8080', '203.0.113.7'],
  // Trusting more proxies than there are: the chain stops at the client's own text, never returns it.
  ['3', '10.0.0.2', 'unknown', '10.0.0.2'],
  ['3', '10.0.0.2', 'not-an-address, 203.0.113.7', '203.0.113.7'],
  ['10.0.0.0/8', '10.0.0.2', '<script>, 10.0.0.3', '10.0.0.3'],
  ['2', '10.0.0.2', '203.0.113.7\u0000, 10.0.0.3', '10.0.0.3'],
])('TRUST_PROXY=%s: from %s with X-Forwarded-For "%s" the client is %s', (trust, peer, forwardedFor, client) => {
  expect(reader(trust)(peer, forwardedFor)).toBe(client);
});
