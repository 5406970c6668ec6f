import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenHash } from '../../oauth/crypto.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { authorizeUrl, expectErrorPage, expectOAuthError, pkcePair, registerClient, tokenRequest, type RegisteredClient } from '../helpers/oauth.js';

// The authorization server's abuse limits (issue 5): per client address at the authorization and token endpoints,
// per client id for clients that authenticate at the token endpoint and, when configured, at the authorization
// endpoint. Past a limit: 429, Retry-After and the IETF RateLimit-Policy / RateLimit fields; counted in the metrics.
const ADMIN = 'abuse-admin-token-0123456789abcdefghijklmnop';
const SERVICE_SECRET = 'service-secret-0123456789abcdefghijklmnopqrstuv';
let clock = Date.now();
let gateway: TestGateway;
let client: RegisteredClient;

beforeAll(async () => {
  gateway = await startTestGateway(
    {
      rateLimits: {
        register: { perIp: { perMinute: 100 } },
        authorize: { perIp: { perMinute: 3 } },
        token: { perIp: { perMinute: 6 }, perClient: { perMinute: 2 } },
      },
      clients: [
        { clientId: 'svc-a', clientSecret: SERVICE_SECRET, tenant: 'default' },
        { clientId: 'svc-b', clientSecret: SERVICE_SECRET, tenant: 'default' },
      ],
      admin: { tokens: [{ name: 'ops', tokenHash: await tokenHash(ADMIN), tenants: ['*'] }] },
    },
    { now: () => clock },
  );
  client = await registerClient(gateway);
});

afterAll(async () => {
  await gateway?.close();
});

const metrics = async () => (await fetch(`${gateway.baseUrl}/admin/v1/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
const clientCredentials = (clientId: string) => tokenRequest(gateway, { grant_type: 'client_credentials', client_id: clientId, client_secret: SERVICE_SECRET });

describe('abuse limits of the authorization server', () => {
  it('refuses the authorization endpoint past its limit per address, on its error page, with the RateLimit fields', async () => {
    const params = { response_type: 'code', client_id: client.client_id, redirect_uri: client.redirect_uris[0]!, code_challenge: pkcePair().challenge, code_challenge_method: 'S256', resource: gateway.resource };
    for (let n = 0; n < 3; n++) expect((await fetch(authorizeUrl(gateway, params), { redirect: 'manual' })).status).toBe(200);
    // Any request counts, a malformed one too: the limit comes before any work.
    const refused = await fetch(authorizeUrl(gateway, { client_id: 'nobody' }), { redirect: 'manual' });
    expect(refused.headers.get('retry-after')).toBe('20');
    expect(refused.headers.get('ratelimit-policy')).toBe('"authorize-ip";q=3;w=60');
    expect(refused.headers.get('ratelimit')).toBe('"authorize-ip";r=0;t=20');
    await expectErrorPage(refused, 429, 'temporarily_unavailable', 'too many requests; try again later');
    clock += 20_000;
    expect((await fetch(authorizeUrl(gateway, params), { redirect: 'manual' })).status).toBe(200);
  });

  it('limits an authenticated client at the token endpoint on its own, and every request per address', async () => {
    expect((await clientCredentials('svc-a')).status).toBe(200);
    expect((await clientCredentials('svc-a')).status).toBe(200);
    const refused = await clientCredentials('svc-a');
    await expectOAuthError(refused, 429, 'temporarily_unavailable', 'too many requests; try again later');
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(refused.headers.get('ratelimit-policy')).toBe('"token-client";q=2;w=60');
    expect(refused.headers.get('ratelimit')).toBe('"token-client";r=0;t=30');
    // Another client is not affected by svc-a's limit ...
    expect((await clientCredentials('svc-b')).status).toBe(200);
    // ... but the address has now made 4 requests of its 6, and a public client's requests count only there.
    for (let n = 0; n < 2; n++) await expectOAuthError(await tokenRequest(gateway, { grant_type: 'authorization_code', client_id: client.client_id, code: 'unknown', code_verifier: pkcePair().verifier }), 400, 'invalid_grant');
    const byAddress = await tokenRequest(gateway, { grant_type: 'authorization_code', client_id: client.client_id, code: 'unknown', code_verifier: pkcePair().verifier });
    await expectOAuthError(byAddress, 429, 'temporarily_unavailable');
    expect(byAddress.headers.get('ratelimit-policy')).toBe('"token-ip";q=6;w=60');
    expect(byAddress.headers.get('retry-after')).toBe('10');
  });

  it('counts what it refused in the metrics', async () => {
    const text = await metrics();
    expect(text).toContain('portcullis_rate_limited_total{endpoint="authorize",by="ip"} 1');
    expect(text).toContain('portcullis_rate_limited_total{endpoint="token",by="client"} 1');
    expect(text).toContain('portcullis_rate_limited_total{endpoint="token",by="ip"} 1');
  });

  it('lets browser clients read the limit fields of a cross-origin response', async () => {
    const response = await fetch(`${gateway.baseUrl}/token`, { method: 'OPTIONS', headers: { origin: 'https://app.example.test', 'access-control-request-method': 'POST' } });
    expect(response.status).toBe(204);
    const exposed = await fetch(`${gateway.baseUrl}/token`, { method: 'POST', headers: { origin: 'https://app.example.test', 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    expect(exposed.headers.get('access-control-expose-headers')).toMatch(/Retry-After.*RateLimit-Policy.*RateLimit/);
  });
});

describe('a per-client limit at the authorization endpoint', () => {
  it('is off unless configured, and then limits each client id separately', async () => {
    const perClient = await startTestGateway({ rateLimits: { authorize: { perIp: { perMinute: 100 }, perClient: { perMinute: 1 } } } });
    try {
      const [a, b] = [await registerClient(perClient), await registerClient(perClient)];
      const start = (registered: RegisteredClient) =>
        fetch(authorizeUrl(perClient, { response_type: 'code', client_id: registered.client_id, redirect_uri: registered.redirect_uris[0]!, code_challenge: pkcePair().challenge, code_challenge_method: 'S256', resource: perClient.resource }), { redirect: 'manual' });
      expect((await start(a)).status).toBe(200);
      const refused = await start(a);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('ratelimit-policy')).toBe('"authorize-client";q=1;w=60');
      expect((await start(b)).status).toBe(200);
    } finally {
      await perClient.close();
    }
  });
});
