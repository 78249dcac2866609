import { clientNetwork } from '../../src/interactions/client_network.ts';

test.each([
  // a client address, what the sign-in limits count it as
  ['203.0.113.7', '203.0.113.7'],
  ['2001:db8::1', '2001:db8:0:0::/64'],
  ['2001:db8::ffff:1', '2001:db8:0:0::/64'],
  ['2001:DB8:0000:0000:1234:5678:9abc:def0', '2001:db8:0:0::/64'],
  ['2001:0db8:0:7:0:0:0:1', '2001:db8:0:7::/64'],
  ['2001:db8:0:8::1', '2001:db8:0:8::/64'],
  ['::1', '0:0:0:0::/64'],
  ['::0:1', '0:0:0:0::/64'],
  ['::0000:0001', '0:0:0:0::/64'],
  ['::', '0:0:0:0::/64'],
  ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ['1:2:3:4:5::', '1:2:3:4::/64'],
  ['1::2:3:4:5:6:7', '1:0:2:3::/64'],
  ['2001:db8:a:b::192.0.2.1', '2001:db8:a:b::/64'],
  ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
  // IPv4-mapped, however written, is the IPv4 client.
  ['::ffff:102:304', '1.2.3.4'],
  ['0:0:0:0:0:FFFF:198.51.100.9', '198.51.100.9'],
  // Not an address (a forwarded header holds whatever was sent): kept as it is.
  ['forged', 'forged'],
  ['[2001:db8::1]:443', '[2001:db8::1]:443'],
])('%s is counted as %s', (address, network) => {
  expect(clientNetwork(address)).toBe(network);
});
