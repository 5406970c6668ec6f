import { createPublicKey, randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { decodeProtectedHeader, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { callMcp, obtainTokens, registerClient, tenantResource, twoTenantConfig, type RegisteredClient } from '../helpers/oauth.js';

/**
 * The resource side of /mcp (RFC 6750, RFC 9068 §4, MCP authorization): only a JWT this gateway signed, for exactly
 * this tenant's resource, unexpired and unrevoked, sent in the Authorization header. Every refusal is a 401 with a
 * `WWW-Authenticate` challenge pointing at the resource metadata (RFC 9728 §5.1).
 */

let clock = Date.now();
let gateway: TestGateway;
let client: RegisteredClient;
let acme: string;

beforeAll(async () => {
  gateway = await startTestGateway(await twoTenantConfig(), { now: () => clock });
  client = await registerClient(gateway);
  acme = tenantResource(gateway, 'acme');
});

afterAll(async () => {
  await gateway?.close();
});

const metadataUrl = (resource: string) => {
  const url = new URL(resource);
  return `${url.origin}/.well-known/oauth-protected-resource${url.pathname}`;
};

/** Asserts the refusal of RFC 6750 §3 with the challenge of RFC 9728 §5.1, and returns the error description. */
async function expectRefused(response: Response, status: 400 | 401, error: string, resource = gateway.resource): Promise<string> {
  const body = (await response.json()) as { error: string; error_description: string };
  expect({ status: response.status, error: body.error }).toEqual({ status, error });
  const description = body.error_description.replace(/["\\]/g, '');
  expect(response.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${metadataUrl(resource)}", scope="mcp", error="${error}", error_description="${description}"`);
  expect(response.headers.get('cache-control')).toBe('no-store');
  return body.error_description;
}

async function expectAccepted(token: string, resource = gateway.resource): Promise<void> {
  const response = await callMcp(resource, `Bearer ${token}`);
  expect(response.status, await response.clone().text()).toBe(200);
  expect(((await response.json()) as { error: { code: number } }).error.code).toBe(-32010);
}

/** The claims a token of this gateway carries, for forging look-alikes. */
function claims(overrides: JWTPayload = {}): JWTPayload {
  const iat = Math.floor(clock / 1000);
  return {
    iss: gateway.config.issuer,
    sub: 'local:demo',
    aud: gateway.resource,
    client_id: client.client_id,
    scope: 'mcp',
    tenant: 'default',
    iat,
    exp: iat + 600,
    jti: randomBytes(16).toString('base64url'),
    ...overrides,
  };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function gatewayKey(): Promise<JWK & { kid: string }> {
  const jwks = (await (await fetch(`${gateway.baseUrl}/jwks`)).json()) as { keys: Array<JWK & { kid: string }> };
  expect(jwks.keys.length).toBeGreaterThan(0);
  return jwks.keys[0]!;
}

describe('requests without a usable token', () => {
  it('answers 401 with a challenge without an error code when no token is sent (RFC 6750 §3.1)', async () => {
    const response = await callMcp(gateway.resource, undefined);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${metadataUrl(gateway.resource)}", scope="mcp"`);
  });

  it.each([
    ['a Basic credential', 'Basic ZGVtbzpkZW1v'],
    ['an empty header', ''],
    ['the scheme alone', 'Bearer'],
  ])('treats %s as no token', async (_, authorization) => {
    const response = await callMcp(acme, authorization);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${metadataUrl(acme)}", scope="mcp"`);
  });

  it('refuses a token in the query string with 400 invalid_request, even beside a valid header (RFC 6750 §2.3, MCP)', async () => {
    const { access_token: token } = await obtainTokens(gateway, client);
    expect(await expectRefused(await callMcp(gateway.resource, undefined, { query: `?access_token=${token}` }), 400, 'invalid_request')).toBe(
      'access tokens are accepted only in the Authorization header',
    );
    await expectRefused(await callMcp(gateway.resource, `Bearer ${token}`, { query: `?access_token=${token}` }), 400, 'invalid_request');
  });

  it.each([
    ['a token with a space', 'Bearer abc def'],
    ['two tokens', 'Bearer a.b.c, Bearer d.e.f'],
    ['a token with a quote', 'Bearer "a.b.c"'],
  ])('refuses %s as malformed', async (_, authorization) => {
    expect(await expectRefused(await callMcp(gateway.resource, authorization), 401, 'invalid_token')).toBe('the access token is malformed');
  });

  it('refuses a token that is not a JWT', async () => {
    expect(await expectRefused(await callMcp(gateway.resource, `Bearer ${randomBytes(32).toString('base64url')}`), 401, 'invalid_token')).toBe('the access token is invalid or expired');
  });
});

describe('forged tokens', () => {
  it('accepts a genuine token (the control for the forgeries below)', async () => {
    await expectAccepted((await obtainTokens(gateway, client)).access_token);
  });

  const forgeries: Array<[string, () => Promise<string>]> = [
    [
      'alg: none',
      async () => `${b64({ alg: 'none', typ: 'at+jwt', kid: (await gatewayKey()).kid })}.${b64(claims())}.`,
    ],
    [
      'HS256 keyed with the public key as PEM (algorithm confusion)',
      async () => {
        const jwk = await gatewayKey();
        const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
        return new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: jwk.kid }).sign(new TextEncoder().encode(pem));
      },
    ],
    [
      'HS256 keyed with the public key as DER',
      async () => {
        const jwk = await gatewayKey();
        const der = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
        return new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: jwk.kid }).sign(new Uint8Array(der));
      },
    ],
    [
      'HS256 keyed with the public JWK as JSON',
      async () => {
        const jwk = await gatewayKey();
        return new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: jwk.kid }).sign(new TextEncoder().encode(JSON.stringify(jwk)));
      },
    ],
    [
      'a foreign ES256 key with our kid',
      async () => {
        const { privateKey } = await generateKeyPair('ES256');
        return new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: (await gatewayKey()).kid }).sign(privateKey);
      },
    ],
    [
      'a foreign ES256 key with our kid and another issuer',
      async () => {
        const { privateKey } = await generateKeyPair('ES256');
        return new SignJWT(claims({ iss: 'https://attacker.example.test' })).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: (await gatewayKey()).kid }).sign(privateKey);
      },
    ],
    [
      'a foreign ES256 key with our kid and another audience',
      async () => {
        const { privateKey } = await generateKeyPair('ES256');
        return new SignJWT(claims({ aud: 'https://attacker.example.test/mcp' })).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: (await gatewayKey()).kid }).sign(privateKey);
      },
    ],
    [
      'a foreign ES256 key with its own kid',
      async () => {
        const { privateKey } = await generateKeyPair('ES256');
        return new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'attacker-key' }).sign(privateKey);
      },
    ],
    [
      'a foreign ES256 key without a kid',
      async () => {
        const { privateKey } = await generateKeyPair('ES256');
        return new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' }).sign(privateKey);
      },
    ],
    [
      'a genuine token whose payload was altered (scope widened)',
      async () => {
        const [header, payload, signature] = (await obtainTokens(gateway, client)).access_token.split('.');
        const altered = { ...(JSON.parse(Buffer.from(payload!, 'base64url').toString()) as JWTPayload), scope: 'mcp admin' };
        return `${header}.${b64(altered)}.${signature}`;
      },
    ],
    [
      'a genuine token whose header was swapped for alg: none',
      async () => {
        const [header, payload] = (await obtainTokens(gateway, client)).access_token.split('.');
        const swapped = { ...(JSON.parse(Buffer.from(header!, 'base64url').toString()) as object), alg: 'none' };
        return `${b64(swapped)}.${payload}.`;
      },
    ],
    [
      'a genuine token without its signature',
      async () => (await obtainTokens(gateway, client)).access_token.split('.').slice(0, 2).join('.') + '.',
    ],
  ];

  it.each(forgeries)('refuses %s with 401 invalid_token', async (_, forge) => {
    const token = await forge();
    expect(await expectRefused(await callMcp(gateway.resource, `Bearer ${token}`), 401, 'invalid_token')).toBe('the access token is invalid or expired');
  });
});

describe('genuine tokens presented where they do not belong', () => {
  it("refuses a token for tenant acme at the default tenant's endpoint, and the reverse", async () => {
    const forAcme = await obtainTokens(gateway, client, { resource: acme });
    const forDefault = await obtainTokens(gateway, client, { resource: gateway.resource });
    await expectAccepted(forAcme.access_token, acme);
    await expectAccepted(forDefault.access_token, gateway.resource);
    await expectRefused(await callMcp(gateway.resource, `Bearer ${forAcme.access_token}`), 401, 'invalid_token');
    await expectRefused(await callMcp(acme, `Bearer ${forDefault.access_token}`), 401, 'invalid_token', acme);
  });

  it('refuses a token of another gateway (other issuer, other audience, other keys)', async () => {
    const other = await startTestGateway(await twoTenantConfig());
    try {
      const foreign = await obtainTokens(other, await registerClient(other));
      await expectAccepted(foreign.access_token, other.resource);
      await expectRefused(await callMcp(gateway.resource, `Bearer ${foreign.access_token}`), 401, 'invalid_token');
    } finally {
      await other.close();
    }
  });

  it('refuses an expired token', async () => {
    const { access_token: token, expires_in: ttl } = await obtainTokens(gateway, client);
    clock += (ttl - 30) * 1000;
    await expectAccepted(token);
    // Past the expiry and the verifier's five seconds of leeway.
    clock += 36_000;
    expect(await expectRefused(await callMcp(gateway.resource, `Bearer ${token}`), 401, 'invalid_token')).toBe('the access token is invalid or expired');
  });

  it('refuses a revoked token', async () => {
    const { access_token: token } = await obtainTokens(gateway, client);
    await expectAccepted(token);
    const revoked = await fetch(`${gateway.baseUrl}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, client_id: client.client_id }).toString(),
    });
    expect(revoked.status).toBe(200);
    expect(await expectRefused(await callMcp(gateway.resource, `Bearer ${token}`), 401, 'invalid_token')).toBe('the access token was revoked');
  });
});

/**
 * Gateways sharing one store and encryption key share the signing keys: a replica configured with another issuer,
 * or with another tenant behind the same resource URL, signs tokens this gateway can verify. Only the `iss` or
 * `tenant` check stands between them and the MCP endpoint.
 */
describe('validly signed tokens with the wrong issuer or tenant (replicas sharing the signing keys)', () => {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const keyPrefix = `portcullis-test:${randomUUID()}:`;
  const secret = (label: string) => `${label}-${randomBytes(24).toString('base64url')}`;
  const services = [
    { clientId: 'svc-default', clientSecret: secret('default'), tenant: 'default' },
    { clientId: 'svc-acme', clientSecret: secret('acme'), tenant: 'acme' },
  ];
  const gateways: TestGateway[] = [];
  let primary: TestGateway;

  async function replica(extra: Record<string, unknown>): Promise<TestGateway> {
    const started = await startTestGateway(await twoTenantConfig({ store: { type: 'redis', url, keyPrefix }, encryptionKey: shared, clients: services, ...extra }));
    gateways.push(started);
    return started;
  }
  const shared = randomBytes(32).toString('base64url');

  async function serviceToken(at: TestGateway, service: (typeof services)[number]): Promise<string> {
    const response = await fetch(`${at.listenUrl}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${service.clientId}:${service.clientSecret}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    });
    expect(response.status, await response.clone().text()).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  }

  beforeAll(async () => {
    primary = await replica({});
  });

  afterAll(async () => {
    await Promise.all(gateways.map((started) => started.close()));
    const redis = new Redis(url, { maxRetriesPerRequest: 1 });
    try {
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
  });

  it("refuses a token signed with this gateway's key that names another issuer", async () => {
    const twin = await replica({ publicUrl: primary.baseUrl, issuer: `${primary.baseUrl}/elsewhere` });
    const token = await serviceToken(twin, services[0]!);
    const kids = ((await (await fetch(`${primary.baseUrl}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);
    expect(kids).toContain(decodeProtectedHeader(token).kid);
    // The replica that issued it accepts it: the signature, audience and tenant are all right.
    await expectAccepted(token, `${twin.listenUrl}/mcp`);
    await expectAccepted(await serviceToken(primary, services[0]!), primary.resource);

    const response = await callMcp(primary.resource, `Bearer ${token}`);
    expect(await expectRefused(response, 401, 'invalid_token', primary.resource)).toBe('the access token is invalid or expired');
  });

  it('refuses a token for the same resource URL that is bound to another tenant', async () => {
    const twin = await replica({ publicUrl: primary.baseUrl, defaultTenant: 'acme' });
    const token = await serviceToken(twin, services[1]!);
    await expectAccepted(token, `${twin.listenUrl}/mcp`);
    expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())).toMatchObject({ iss: primary.config.issuer, aud: primary.resource, tenant: 'acme' });

    const response = await callMcp(primary.resource, `Bearer ${token}`);
    expect(await expectRefused(response, 401, 'invalid_token', primary.resource)).toBe('the access token belongs to another tenant');
  });
});
