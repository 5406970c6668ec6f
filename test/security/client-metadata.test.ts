import { request as httpsRequest, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { authorizeUrl, expectErrorPage, expectOAuthError, pkcePair, tokenRequest } from '../helpers/oauth.js';
import { createTestCertificate } from '../helpers/tls.js';

/**
 * SSRF through client ID metadata documents: a `client_id` that is an https URL makes the gateway fetch it, so an
 * attacker could point it at internal addresses. With the default configuration (allowLoopback false) every such
 * client_id is refused with the error page before any connection is made.
 *
 * A real https server on loopback serves a valid document for any path and counts TCP connections, with its
 * certificate trusted by the gateway: were the address guard missing, the gateway would connect and succeed. No
 * test here sends traffic beyond loopback: private and metadata-service addresses are refused before connecting.
 */

let documents: Server;
let port: number;
let connections = 0;
let gateway: TestGateway;
let ca: string;

beforeAll(async () => {
  const { cert, key } = createTestCertificate({ dnsNames: ['localhost'] });
  ca = cert;
  documents = createServer({ cert, key }, (req, res) => {
    const clientId = `https://${req.headers.host ?? ''}${req.url ?? ''}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ client_id: clientId, client_name: 'Loopback document', redirect_uris: ['https://client.example.test/callback'] }));
  });
  documents.on('connection', () => connections++);
  await new Promise<void>((resolve) => documents.listen(0, '127.0.0.1', resolve));
  port = (documents.address() as AddressInfo).port;
  gateway = await startTestGateway({}, { clientMetadataCa: ca });
});

afterAll(async () => {
  await gateway?.close();
  documents?.closeAllConnections();
  await new Promise((resolve) => documents?.close(resolve));
});

function authorize(clientId: string): Promise<Response> {
  const params = { response_type: 'code', client_id: clientId, redirect_uri: 'https://client.example.test/callback', code_challenge: pkcePair().challenge, code_challenge_method: 'S256', state: 's' };
  return fetch(authorizeUrl(gateway, params), { redirect: 'manual' });
}

describe('client ID metadata documents on internal addresses', () => {
  it('supports metadata documents, and the loopback document server is live (the preconditions)', async () => {
    const metadata = (await (await fetch(`${gateway.baseUrl}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(metadata['client_id_metadata_document_supported']).toBe(true);
    expect(gateway.config.clientMetadataDocuments.allowLoopback).toBe(false);

    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(`https://127.0.0.1:${port}/client.json`, { ca, agent: false }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end();
    });
    expect(JSON.parse(body)).toMatchObject({ client_id: `https://127.0.0.1:${port}/client.json` });
    expect(connections).toBe(1);
  });

  const refused: Array<[string, () => string]> = [
    ['loopback by address', () => `https://127.0.0.1:${port}/client.json`],
    ['loopback by name', () => `https://localhost:${port}/client.json`],
    ['loopback by name on the default port', () => 'https://localhost/client.json'],
    ['the IPv6 loopback', () => `https://[::1]:${port}/client.json`],
    ['0.0.0.0', () => 'https://0.0.0.0/c.json'],
    ['10.0.0.0/8', () => 'https://10.0.0.1/c.json'],
    ['172.16.0.0/12', () => 'https://172.16.0.1/c.json'],
    ['192.168.0.0/16', () => 'https://192.168.0.1/c.json'],
    ['carrier-grade NAT', () => 'https://100.64.0.1/c.json'],
    ['the cloud metadata service', () => 'https://169.254.169.254/latest/meta-data/c.json'],
    ['the cloud metadata service as an IPv4-mapped IPv6 address', () => 'https://[::ffff:a9fe:a9fe]/c.json'],
    ['the AWS IPv6 metadata service', () => 'https://[fd00:ec2::254]/c.json'],
    ['an IPv6 link-local address', () => 'https://[fe80::1]/c.json'],
  ];

  it.each(refused)('refuses %s at /authorize with the error page, without connecting', async (_, clientId) => {
    await expectErrorPage(await authorize(clientId()), 400, 'invalid_client', 'client metadata document could not be retrieved');
    expect(connections).toBe(1);
  });

  // Not in canonical form, so not client identifier URLs at all: no fetch is even attempted.
  it.each([
    ['the IPv4-mapped metadata service in dotted form', 'https://[::ffff:169.254.169.254]/c.json'],
    ['loopback as a decimal number', 'https://2130706433/c.json'],
    ['loopback in hexadecimal', 'https://0x7f.0.0.1/c.json'],
    ['loopback in short form', 'https://127.1/c.json'],
    ['a host name in upper case', `https://LOCALHOST:443/c.json`],
    ['a dot segment', 'https://localhost/a/../c.json'],
  ])('refuses %s at /authorize as an unknown client', async (_, clientId) => {
    await expectErrorPage(await authorize(clientId), 400, 'invalid_client', 'the client is not registered');
    expect(connections).toBe(1);
  });

  it.each(refused)('refuses %s at /token with 401 invalid_client, without connecting', async (_, clientId) => {
    const response = await tokenRequest(gateway, { grant_type: 'authorization_code', code: 'x', code_verifier: pkcePair().verifier, client_id: clientId() });
    expect(response.headers.get('www-authenticate')).toBe(`Basic realm="${gateway.config.issuer}"`);
    await expectOAuthError(response, 401, 'invalid_client', 'client metadata document could not be retrieved');
    expect(connections).toBe(1);
  });
});
