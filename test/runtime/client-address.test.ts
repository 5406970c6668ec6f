import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientAddressResolver } from '../../src/runtime/client-address.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { postRegistration } from '../helpers/oauth.js';

describe('the client address rate limits key on', () => {
  const behindProxies = clientAddressResolver(['10.0.0.0/8', '192.0.2.7', 'fd00::/8']);

  it.each([
    ['no trusted proxy: the socket, whatever the header says', clientAddressResolver([]), { socketAddress: '10.1.2.3', forwardedFor: '203.0.113.9' }, '10.1.2.3'],
    ['an untrusted peer: the socket; its header is not believed', behindProxies, { socketAddress: '198.51.100.4', forwardedFor: '203.0.113.9' }, '198.51.100.4'],
    ['a trusted proxy: the header', behindProxies, { socketAddress: '10.1.2.3', forwardedFor: '203.0.113.9' }, '203.0.113.9'],
    ['a chain: the rightmost address that is not a trusted proxy', behindProxies, { socketAddress: '10.1.2.3', forwardedFor: '1.1.1.1, 203.0.113.9, 192.0.2.7, 10.9.9.9' }, '203.0.113.9'],
    ['an IPv4-mapped socket address', behindProxies, { socketAddress: '::ffff:10.1.2.3', forwardedFor: '203.0.113.9' }, '203.0.113.9'],
    ['IPv6 proxies and clients', behindProxies, { socketAddress: 'fd12::1', forwardedFor: '2001:db8::5' }, '2001:db8::5'],
    ['garbage in the header is skipped', behindProxies, { socketAddress: '10.1.2.3', forwardedFor: 'not-an-ip, 203.0.113.9, <script>' }, '203.0.113.9'],
    ['a trusted proxy without a header: the proxy', behindProxies, { socketAddress: '10.1.2.3', forwardedFor: undefined }, '10.1.2.3'],
  ])('%s', (_name, resolve, peer, expected) => {
    expect(resolve(peer)).toBe(expected);
  });

  it('refuses an entry that is not an address or a range', () => {
    expect(() => clientAddressResolver(['10.0.0.0/8', 'proxy.internal'])).toThrow('server.trustedProxies: "proxy.internal" is not an IP address or CIDR range');
  });
});

describe('registration limits per client address', () => {
  let direct: TestGateway;
  let proxied: TestGateway;
  beforeAll(async () => {
    [direct, proxied] = await Promise.all([
      startTestGateway({ rateLimits: { register: { perIp: { perMinute: 2 } } } }),
      startTestGateway({ rateLimits: { register: { perIp: { perMinute: 2 } } }, server: { host: '127.0.0.1', port: 0, trustedProxies: ['127.0.0.1'] } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([direct?.close(), proxied?.close()]);
  });

  const register = (gateway: TestGateway, forwardedFor: string) => postRegistration(gateway, { redirect_uris: ['https://client.example.test/cb'], token_endpoint_auth_method: 'none' }, { 'x-forwarded-for': forwardedFor });

  it('without a trusted proxy, a forged X-Forwarded-For does not escape the limit', async () => {
    expect((await register(direct, '203.0.113.1')).status).toBe(201);
    expect((await register(direct, '203.0.113.2')).status).toBe(201);
    const third = await register(direct, '203.0.113.3');
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('behind a trusted proxy, each client address has its own limit', async () => {
    for (let n = 0; n < 2; n++) expect((await register(proxied, '203.0.113.1')).status).toBe(201);
    expect((await register(proxied, '203.0.113.1')).status).toBe(429);
    expect((await register(proxied, '203.0.113.2')).status).toBe(201);
  });
});
