import { describe, expect, it } from 'vitest';
import { isDisallowedAddress } from '../../src/runtime/ip-policy.js';

// Classification only: no traffic is sent to any of these addresses.

const disallowed: ReadonlyArray<readonly [address: string, range: string]> = [
  ['0.0.0.0', '0.0.0.0/8'],
  ['0.255.255.255', '0.0.0.0/8'],
  ['10.0.0.1', '10.0.0.0/8'],
  ['10.255.255.255', '10.0.0.0/8'],
  ['100.64.0.1', '100.64.0.0/10'],
  ['100.127.255.255', '100.64.0.0/10'],
  ['169.254.0.1', '169.254.0.0/16'],
  ['169.254.169.254', 'cloud metadata'],
  ['172.16.0.1', '172.16.0.0/12'],
  ['172.31.255.255', '172.16.0.0/12'],
  ['192.0.0.1', '192.0.0.0/24'],
  ['192.0.2.1', '192.0.2.0/24'],
  ['192.88.99.1', '192.88.99.0/24'],
  ['192.168.1.1', '192.168.0.0/16'],
  ['198.18.0.1', '198.18.0.0/15'],
  ['198.19.255.255', '198.18.0.0/15'],
  ['198.51.100.7', '198.51.100.0/24'],
  ['203.0.113.9', '203.0.113.0/24'],
  ['224.0.0.1', '224.0.0.0/4'],
  ['239.255.255.250', '224.0.0.0/4'],
  ['240.0.0.1', '240.0.0.0/4'],
  ['255.255.255.255', 'broadcast'],
  ['::', 'unspecified'],
  ['0:0:0:0:0:0:0:0', 'unspecified, uncompressed'],
  ['fc00::1', 'fc00::/7'],
  ['fd12:3456:789a::1', 'fc00::/7'],
  ['fd00:ec2::254', 'AWS IPv6 metadata'],
  ['fe80::1', 'fe80::/10'],
  ['febf:ffff::1', 'fe80::/10'],
  ['fe80::1%eth0', 'link-local with zone index'],
  ['fec0::1', 'fec0::/10'],
  ['ff02::1', 'ff00::/8'],
  ['2001:db8::1', '2001:db8::/32'],
  ['100::1', '100::/64'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo 2001::/32'],
  ['64:ff9b:1::a00:1', '64:ff9b:1::/48'],
  ['::ffff:127.0.0.1', 'IPv4-mapped loopback, dotted'],
  ['::ffff:7f00:1', 'IPv4-mapped loopback, hex'],
  ['0:0:0:0:0:ffff:7f00:1', 'IPv4-mapped loopback, uncompressed'],
  ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
  ['::ffff:a9fe:a9fe', 'IPv4-mapped metadata, hex'],
  ['::ffff:10.1.2.3', 'IPv4-mapped private'],
  ['::ffff:0:192.168.0.1', 'IPv4-translated private'],
  ['::ffff:0:7f00:1', 'IPv4-translated loopback'],
  ['::127.0.0.1', 'IPv4-compatible loopback'],
  ['::a9fe:a9fe', 'IPv4-compatible metadata'],
  ['::2', 'IPv4-compatible 0.0.0.2'],
  ['64:ff9b::a9fe:a9fe', 'NAT64 of metadata'],
  ['64:ff9b::127.0.0.1', 'NAT64 of loopback'],
  ['2002:7f00:0001::', '6to4 of loopback'],
  ['2002:a9fe:a9fe::1', '6to4 of metadata'],
  ['2002:c0a8:0101:1::1', '6to4 of 192.168.1.1'],
  ['localhost', 'not an IP address'],
  ['', 'empty'],
  ['127.1', 'short IPv4 form'],
  ['0x7f.0.0.1', 'hex IPv4 form'],
  ['2130706433', 'decimal IPv4 form'],
  ['127.000.000.001', 'zero-padded IPv4 form'],
  ['[::1]', 'bracketed'],
];

const allowed: readonly string[] = [
  '8.8.8.8',
  '1.1.1.1',
  '93.184.215.14',
  '100.63.255.255', // just below 100.64.0.0/10
  '100.128.0.0', // just above it
  '172.15.255.255',
  '172.32.0.0',
  '192.169.0.1',
  '198.17.255.255',
  '198.20.0.0',
  '223.255.255.255',
  '2606:4700::1111',
  '2001:4860:4860::8888',
  '2a00:1450:4001::1',
  '::ffff:8.8.8.8', // IPv4-mapped public
  '64:ff9b::808:808', // NAT64 of a public address
  '2002:808:808::1', // 6to4 of a public address
];

// What reaches this host's loopback. The IPv4-compatible, -translated, NAT64 and 6to4 forms of 127.0.0.1 do not,
// so they stay refused even with the flag.
const loopback: readonly string[] = [
  '127.0.0.1',
  '127.255.255.254',
  '::1',
  '0:0:0:0:0:0:0:1',
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
  '0:0:0:0:0:ffff:7f00:1',
];

describe('isDisallowedAddress', () => {
  it.each(disallowed)('refuses %s (%s)', (address) => {
    expect(isDisallowedAddress(address, { allowLoopback: false })).toBe(true);
  });

  it.each(disallowed.filter(([address]) => !loopback.includes(address)))(
    'refuses %s (%s) even with allowLoopback',
    (address) => {
      expect(isDisallowedAddress(address, { allowLoopback: true })).toBe(true);
    },
  );

  it.each(allowed)('allows public %s', (address) => {
    expect(isDisallowedAddress(address, { allowLoopback: false })).toBe(false);
  });

  it.each(loopback)('refuses loopback %s by default and allows it only with allowLoopback', (address) => {
    expect(isDisallowedAddress(address, { allowLoopback: false })).toBe(true);
    expect(isDisallowedAddress(address, { allowLoopback: true })).toBe(false);
  });

  it('keeps 0.0.0.0 and :: refused with allowLoopback, since they reach the local host', () => {
    expect(isDisallowedAddress('0.0.0.0', { allowLoopback: true })).toBe(true);
    expect(isDisallowedAddress('::', { allowLoopback: true })).toBe(true);
    expect(isDisallowedAddress('::ffff:0.0.0.0', { allowLoopback: true })).toBe(true);
  });
});
