import { BlockList, isIP } from 'node:net';

/**
 * Addresses an outbound fetch of untrusted URLs (client metadata documents) must never connect to: everything
 * that is not globally reachable unicast per the IANA special-purpose registries (RFC 6890 and updates),
 * plus cloud metadata endpoints (169.254.169.254, fd00:ec2::254).
 */
const blockedV4 = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"; 0.0.0.0 reaches the local host on Linux
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['169.254.0.0', 16], // link-local, including the 169.254.169.254 metadata service
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // deprecated 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, including 255.255.255.255
] as const) {
  blockedV4.addSubnet(network, prefix, 'ipv4');
}

const loopbackV4 = new BlockList();
loopbackV4.addSubnet('127.0.0.0', 8, 'ipv4');

const blockedV6 = new BlockList();
for (const [network, prefix] of [
  ['::', 128], // unspecified; reaches the local host on Linux
  ['100::', 64], // discard-only
  ['2001::', 32], // Teredo: the embedded client address is obfuscated, and no document host lives there
  ['2001:2::', 48], // benchmarking
  ['2001:10::', 28], // ORCHID
  ['2001:20::', 28], // ORCHIDv2
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation (RFC 9637)
  ['5f00::', 16], // SRv6 SIDs (RFC 9602)
  ['64:ff9b:1::', 48], // local-use NAT64 (RFC 8215): translates into a private network
  ['fc00::', 7], // unique local, including fd00:ec2::254 (AWS metadata)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // deprecated site-local
  ['ff00::', 8], // multicast
] as const) {
  blockedV6.addSubnet(network, prefix, 'ipv6');
}

/**
 * Whether an outbound connection to `address` (an IP literal as `dns.lookup` or `socket.remoteAddress` give it)
 * must be refused. Anything that is not a well-formed IP address is refused. IPv6 forms that embed an IPv4
 * address (IPv4-mapped, IPv4-translated, IPv4-compatible, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by the
 * IPv4 address they embed. `allowLoopback` (a development flag) admits only what reaches this host's loopback:
 * 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8.
 */
export function isDisallowedAddress(address: string, options: { allowLoopback: boolean }): boolean {
  // A zone index scopes the address to one local link: never a public destination.
  if (address.includes('%')) return true;
  const family = isIP(address);
  if (family === 4) return isDisallowedV4(address, options.allowLoopback);
  if (family !== 6) return true;

  const groups = ipv6Groups(address);
  const onlyLastGroupSet = groups.slice(0, 7).every((group) => group === 0);
  if (onlyLastGroupSet && groups[7] === 0) return true; // ::, the unspecified address
  if (onlyLastGroupSet && groups[7] === 1) return !options.allowLoopback; // ::1
  const embedded = embeddedIPv4(groups);
  if (embedded !== undefined) return isDisallowedV4(embedded.address, options.allowLoopback && embedded.sameHost);
  return blockedV6.check(address, 'ipv6');
}

function isDisallowedV4(address: string, allowLoopback: boolean): boolean {
  if (blockedV4.check(address, 'ipv4')) return true;
  return !allowLoopback && loopbackV4.check(address, 'ipv4');
}

/** The eight 16-bit groups of an address that `isIP` has already accepted as IPv6 (zone index excluded). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const gap = text.indexOf('::');
  if (gap === -1) return parse(text);
  const head = parse(text.slice(0, gap));
  const rest = parse(text.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
}

/**
 * The IPv4 address a transition-mechanism IPv6 address carries, if it carries one. `sameHost` marks IPv4-mapped
 * addresses, which a dual-stack socket delivers to that IPv4 address on this host; the other forms are routed
 * elsewhere (a translator or relay), so for them an embedded loopback is never this host's loopback.
 */
function embeddedIPv4(groups: readonly number[]): { address: string; sameHost: boolean } | undefined {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const dotted = (high: number, low: number): string => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  const last32 = dotted(g6, g7);
  const zeroPrefix = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0;
  if (zeroPrefix && g4 === 0 && g5 === 0xffff) return { address: last32, sameHost: true }; // ::ffff:0:0/96 mapped
  if (zeroPrefix && g4 === 0xffff && g5 === 0) return { address: last32, sameHost: false }; // ::ffff:0:0:0/96 translated
  if (zeroPrefix && g4 === 0 && g5 === 0) return { address: last32, sameHost: false }; // ::/96 IPv4-compatible
  const nat64 = g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0;
  if (nat64) return { address: last32, sameHost: false }; // 64:ff9b::/96
  if (g0 === 0x2002) return { address: dotted(g1, g2), sameHost: false }; // 2002::/16 6to4
  return undefined;
}
