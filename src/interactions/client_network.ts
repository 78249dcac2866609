import { isIPv6 } from 'node:net';

/**
 * What the sign-in limits count a client address as: an IPv4 address itself, an IPv6 address's
 * /64 (written `2001:db8:0:7::/64`, lowercase, no leading zeros). A home or a cloud machine is
 * given a whole /64 and picks any address in it, so counting single IPv6 addresses would give
 * anyone 2^64 fresh counters; and one address has many spellings (::1, ::0:1, ::0000:0001).
 * Anything that is not an IP address (a forwarded header can hold anything) stays as it is.
 */
export function clientNetwork(address: string): string {
  if (!isIPv6(address)) return address;
  const groups = ipv6Groups(address.replace(/%.*$/, ''));
  // IPv4-mapped (::ffff:102:304) is the IPv4 client 1.2.3.4, however it was written.
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return `${groups.slice(0, 4).map((group) => group.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address: `::` expanded, a dotted-quad tail as two groups. */
function ipv6Groups(address: string): number[] {
  const parse = (part: string) => (part === '' ? [] : part.split(':').flatMap((piece) => {
    if (!piece.includes('.')) return [parseInt(piece, 16)];
    const [a, b, c, d] = piece.split('.').map(Number) as [number, number, number, number];
    return [(a << 8) | b, (c << 8) | d];
  }));
  const [head, tail] = address.split('::') as [string, string | undefined];
  if (tail === undefined) return parse(head);
  const left = parse(head);
  const right = parse(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}
