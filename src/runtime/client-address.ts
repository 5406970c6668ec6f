import { BlockList, isIP } from 'node:net';

/** The address of the peer that sent a request, as the socket saw it, and the `X-Forwarded-For` header if any. */
export interface Peer {
  socketAddress: string | undefined;
  forwardedFor: string | undefined;
}

function plain(address: string): string {
  // A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6.
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * The client address that rate limits key on. `X-Forwarded-For` is believed only from a configured trusted proxy,
 * and then read from the right: the first address that is not itself a trusted proxy is the client (anything to its
 * left was written by the client and proves nothing). Entries are addresses or CIDR ranges, IPv4 or IPv6.
 */
export function clientAddressResolver(trustedProxies: readonly string[]): (peer: Peer) => string | undefined {
  if (trustedProxies.length === 0) return (peer) => peer.socketAddress && plain(peer.socketAddress);
  const trusted = new BlockList();
  for (const entry of trustedProxies) {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address);
    if (family === 0) throw new Error(`server.trustedProxies: "${entry}" is not an IP address or CIDR range`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) trusted.addAddress(address, type);
    else trusted.addSubnet(address, Number(bits), type);
  }
  const isTrusted = (address: string) => {
    const family = isIP(address);
    return family !== 0 && trusted.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
  return (peer) => {
    const socket = peer.socketAddress && plain(peer.socketAddress);
    if (!socket || !isTrusted(socket)) return socket;
    const chain = (peer.forwardedFor ?? '').split(',').map((hop) => plain(hop.trim())).filter((hop) => isIP(hop) !== 0);
    for (let index = chain.length - 1; index >= 0; index--) if (!isTrusted(chain[index]!)) return chain[index];
    return chain[0] ?? socket;
  };
}
