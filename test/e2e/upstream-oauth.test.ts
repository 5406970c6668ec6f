import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createDemoServer } from '../../src/demo/server.js';
import { serveStreamableHttp, type ServedMcp } from '../fixtures/serve.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { obtainTokens, registerClient } from '../helpers/oauth.js';

// The gateway authenticates to an upstream with its own OAuth client credentials, obtained from the upstream's
// authorization server — here another Portcullis, whose configured service client the gateway is.
const CLIENT_ID = 'gateway-as-client';
const CLIENT_SECRET = randomBytes(32).toString('base64url');
let upstreamAs: TestGateway;
let upstream: ServedMcp;
let gateway: TestGateway;

beforeAll(async () => {
  upstreamAs = await startTestGateway({ clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tenant: 'default', scopes: [] }] });
  upstream = await serveStreamableHttp(() => createDemoServer());
  gateway = await startTestGateway({
    tenants: [
      {
        id: 'default',
        upstreams: [{ id: 'secured', transport: 'streamable-http', url: upstream.url, oauth: { issuer: upstreamAs.baseUrl, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, resource: upstreamAs.resource } }],
      },
    ],
  });
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
  await upstreamAs?.close();
});

async function session(token: string): Promise<Client> {
  const mcp = new Client({ name: 'upstream-oauth-test', version: '1' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(gateway.resource), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return mcp;
}

test('every upstream request carries the gateway’s own token for the upstream, never the client’s, and sessions share it', async () => {
  const clientToken = (await obtainTokens(gateway, await registerClient(gateway))).access_token;
  for (let i = 0; i < 2; i++) {
    const mcp = await session(clientToken);
    const result = await mcp.callTool({ name: 'secured__echo', arguments: { text: `hello ${i}` } });
    expect(JSON.stringify(result.content)).toContain(`hello ${i}`);
    await mcp.close();
  }

  const presented = new Set(upstream.requests.map((request) => request.headers.authorization));
  expect(upstream.requests.length).toBeGreaterThan(4);
  expect(presented.size).toBe(1);
  const [authorization] = [...presented];
  expect(authorization).toMatch(/^Bearer /);
  expect(authorization).not.toContain(clientToken);
  const { payload, protectedHeader } = await jwtVerify(authorization!.slice('Bearer '.length), createRemoteJWKSet(new URL(`${upstreamAs.baseUrl}/jwks`)), {
    issuer: upstreamAs.baseUrl,
    audience: upstreamAs.resource,
    typ: 'at+jwt',
  });
  expect(protectedHeader.alg).toBe('ES256');
  expect(payload).toMatchObject({ client_id: CLIENT_ID, sub: CLIENT_ID, scope: 'mcp' });
});
