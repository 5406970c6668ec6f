import { createHash } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createClientMetadataResolver,
  isClientIdMetadataUrl,
  MetadataFetchError,
  type MetadataFetch,
} from '../../oauth/client-metadata-document.js';
import { OAuthError } from '../../oauth/errors.js';
import { createGuardedFetch, type ResolveHost } from '../../src/runtime/guarded-fetch.js';
import { MemoryStore } from '../../src/store/memory.js';
import { createTestCertificate } from '../helpers/tls.js';

// A real https server on loopback with a certificate made for this run; the key never leaves memory after start-up.

let certificate: string;
let server: Server;
let port: number;
let origin: string;

const routes = new Map<string, (res: ServerResponse) => void>();
const requests: Array<{ path: string; headers: IncomingHttpHeaders; servername: string | false | null | undefined }> = [];

beforeAll(async () => {
  // client.test is named so a test can reach this server by a host name; other.test deliberately is not.
  const { cert, key } = createTestCertificate({ dnsNames: ['localhost', 'client.test'] });
  certificate = cert;
  server = createServer({ key, cert: certificate }, (req, res) => {
    const path = req.url ?? '';
    requests.push({ path, headers: req.headers, servername: (req.socket as TLSSocket).servername });
    const route = routes.get(path);
    if (route === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    route(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  origin = `https://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  routes.clear();
  requests.length = 0;
});

function hits(path: string): number {
  return requests.filter((request) => request.path === path).length;
}

function serve(path: string, handler: (res: ServerResponse) => void): void {
  routes.set(path, handler);
}

function serveJson(path: string, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  serve(path, (res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  });
}

function documentFor(path: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: `${origin}${path}`,
    client_name: 'Test client',
    redirect_uris: ['http://127.0.0.1:33418/callback'],
    token_endpoint_auth_method: 'none',
    ...extra,
  };
}

/** The embedded store on the test's clock, noting the TTL of every write. */
class RecordingStore extends MemoryStore {
  readonly ttls = new Map<string, number | undefined>();

  override async set<T>(key: string, value: T, ttlSeconds?: number): Promise<void> {
    this.ttls.set(key, ttlSeconds);
    await super.set(key, value, ttlSeconds);
  }
}

interface TestClient {
  clientId: string;
  clientName: string;
  redirectUris: string[];
}

/** Stands in for the gateway's real validation: narrows the document to the client type. */
function validate(document: unknown): TestClient {
  const fields = document as { client_id: string; client_name?: unknown; redirect_uris: string[] };
  if (typeof fields.client_name !== 'string') {
    throw new OAuthError('invalid_client_metadata', 'client_name must be a string');
  }
  return { clientId: fields.client_id, clientName: fields.client_name, redirectUris: fields.redirect_uris };
}

const START = Date.parse('2026-03-01T12:00:00Z');

function setup(
  options: { allowLoopback?: boolean; lookup?: ResolveHost; timeoutMs?: number; fetch?: MetadataFetch } = {},
) {
  const clock = { now: START };
  const storage = new RecordingStore({ now: () => clock.now });
  const fetch =
    options.fetch ??
    createGuardedFetch({
      allowLoopback: options.allowLoopback ?? true,
      ca: certificate,
      ...(options.lookup !== undefined ? { lookup: options.lookup } : {}),
    });
  const resolve = createClientMetadataResolver({
    fetch,
    storage,
    validate,
    now: () => clock.now,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  return { resolve, storage, clock };
}

function cacheKeyOf(url: string): string {
  return `cimd:${createHash('sha256').update(url).digest('base64url')}`;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('expected a rejection'),
    (error: unknown) => error,
  );
}

async function expectInvalidClient(promise: Promise<unknown>, description: string): Promise<OAuthError> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(OAuthError);
  const oauthError = error as OAuthError;
  expect({ code: oauthError.code, description: oauthError.description, status: oauthError.status }).toEqual({
    code: 'invalid_client',
    description,
    status: 400,
  });
  return oauthError;
}

async function expectFetchError(promise: Promise<unknown>, reason: string, message: string | RegExp): Promise<void> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(MetadataFetchError);
  expect((error as MetadataFetchError).reason).toBe(reason);
  expect((error as MetadataFetchError).message).toMatch(message);
}

const LIMITS = { timeoutMs: 5000, maxBytes: 5120 };

describe('isClientIdMetadataUrl', () => {
  it.each([
    'https://client.example/client.json',
    'https://client.example:8443/oauth/metadata.json',
    'https://client.example/clients/',
    'https://client.example/client.json?version=2',
  ])('accepts %s', (clientId) => {
    expect(isClientIdMetadataUrl(clientId)).toBe(true);
  });

  it.each([
    ['http://client.example/client.json', 'not https'],
    ['https://client.example', 'no path'],
    ['https://client.example/', 'path is only "/"'],
    ['https://client.example/client.json#main', 'fragment'],
    ['https://client.example/client.json#', 'empty fragment'],
    ['https://user:secret@client.example/client.json', 'credentials'],
    ['https://user@client.example/client.json', 'username'],
    ['https://client.example/a/../client.json', 'double-dot segment'],
    ['https://client.example/./client.json', 'single-dot segment'],
    ['https://client.example/a/%2e%2e/client.json', 'encoded double-dot segment'],
    ['https://CLIENT.example/client.json', 'not canonical: upper-case host'],
    ['https://client.example:443/client.json', 'not canonical: default port'],
    [' https://client.example/client.json', 'not canonical: leading space'],
    ['https://2130706433/client.json', 'not canonical: decimal IPv4 host'],
    ['client.json', 'relative'],
    ['urn:example:client', 'not a URL with a host'],
    ['', 'empty'],
  ])('rejects %s (%s)', (clientId) => {
    expect(isClientIdMetadataUrl(clientId)).toBe(false);
  });
});

describe('createClientMetadataResolver over the guarded fetch', () => {
  it('resolves a valid document to the validated client, fetched with Accept: application/json', async () => {
    serveJson('/client.json', documentFor('/client.json'));
    const { resolve } = setup();

    await expect(resolve(`${origin}/client.json`)).resolves.toEqual({
      clientId: `${origin}/client.json`,
      clientName: 'Test client',
      redirectUris: ['http://127.0.0.1:33418/callback'],
    });
    expect(requests).toHaveLength(1);
    expect(requests[0]?.headers['accept']).toBe('application/json');
    expect(requests[0]?.headers['host']).toBe(`127.0.0.1:${port}`);
  });

  it.each(['application/json; charset=utf-8', 'application/oauth-client+json'])('accepts Content-Type %s', async (type) => {
    serveJson('/client.json', documentFor('/client.json'), { 'content-type': type });
    const { resolve } = setup();
    await expect(resolve(`${origin}/client.json`)).resolves.toMatchObject({ clientName: 'Test client' });
  });

  it('serves a second resolution from the cache under cimd:<base64url(SHA-256(url))>, for max-age', async () => {
    serveJson('/client.json', documentFor('/client.json'), { 'cache-control': 'max-age=60' });
    const { resolve, storage } = setup();
    const clientId = `${origin}/client.json`;

    const first = await resolve(clientId);
    const second = await resolve(clientId);

    expect(second).toEqual(first);
    expect(hits('/client.json')).toBe(1);
    expect(storage.ttls.get(cacheKeyOf(clientId))).toBe(60);
    await expect(storage.get(cacheKeyOf(clientId))).resolves.toEqual({ metadata: first });
  });

  it('fetches again once the cached copy has expired', async () => {
    serveJson('/client.json', documentFor('/client.json'), { 'cache-control': 'max-age=60' });
    const { resolve, clock } = setup();

    await resolve(`${origin}/client.json`);
    clock.now += 61_000;
    await resolve(`${origin}/client.json`);

    expect(hits('/client.json')).toBe(2);
  });

  it.each(['max-age=0', 'no-store', 'no-cache', 'max-age=60, no-store', 'max-age=soon'])(
    'does not cache a response with Cache-Control: %s',
    async (cacheControl) => {
      serveJson('/client.json', documentFor('/client.json'), { 'cache-control': cacheControl });
      const { resolve, storage } = setup();

      await resolve(`${origin}/client.json`);
      await resolve(`${origin}/client.json`);

      expect(hits('/client.json')).toBe(2);
      expect(storage.ttls.size).toBe(0);
    },
  );

  it.each([
    ['no caching headers', {}, 300],
    ['s-maxage only (ignored)', { 'cache-control': 's-maxage=7' }, 300],
    ['max-age above the bound', { 'cache-control': 'public, max-age=86400' }, 3600],
    ['max-age less Age', { 'cache-control': 'max-age=100', age: '40' }, 60],
    ['Expires relative to Date', { date: 'Mon, 01 Jan 2024 00:00:00 GMT', expires: 'Mon, 01 Jan 2024 00:02:00 GMT' }, 120],
    ['max-age over Expires', { 'cache-control': 'max-age=30', expires: 'Mon, 01 Jan 2024 00:02:00 GMT' }, 30],
  ])('caches for the lifetime its headers give: %s', async (_name, headers: Record<string, string>, ttl) => {
    serveJson('/client.json', documentFor('/client.json'), headers);
    const { resolve, storage } = setup();

    await resolve(`${origin}/client.json`);

    expect(storage.ttls.get(cacheKeyOf(`${origin}/client.json`))).toBe(ttl);
  });

  it('does not cache when Expires is already past', async () => {
    serveJson('/client.json', documentFor('/client.json'), {
      date: 'Mon, 01 Jan 2024 00:02:00 GMT',
      expires: 'Mon, 01 Jan 2024 00:00:00 GMT',
    });
    const { resolve, storage } = setup();
    await resolve(`${origin}/client.json`);
    expect(storage.ttls.size).toBe(0);
  });

  it('shares one fetch between concurrent resolutions of the same client', async () => {
    serveJson('/client.json', documentFor('/client.json'));
    const { resolve } = setup();
    const [a, b] = await Promise.all([resolve(`${origin}/client.json`), resolve(`${origin}/client.json`)]);
    expect(a).toEqual(b);
    expect(hits('/client.json')).toBe(1);
  });

  it('accepts a document of exactly 5 KiB', async () => {
    const base = JSON.stringify(documentFor('/client.json', { client_name: '' })).length;
    const document = documentFor('/client.json', { client_name: 'x'.repeat(5120 - base) });
    expect(JSON.stringify(document)).toHaveLength(5120);
    serveJson('/client.json', document);
    const { resolve } = setup();
    await expect(resolve(`${origin}/client.json`)).resolves.toMatchObject({ clientId: `${origin}/client.json` });
  });

  it('refuses a document whose client_id does not match its URL', async () => {
    serveJson('/client.json', documentFor('/client.json', { client_id: `${origin}/other.json` }));
    const { resolve } = setup();
    await expectInvalidClient(
      resolve(`${origin}/client.json`),
      'client metadata document is invalid: client_id does not match its URL',
    );
  });

  it.each([
    ['missing', undefined],
    ['empty', []],
    ['not strings', [42]],
    ['a string', 'http://127.0.0.1:33418/callback'],
  ])('refuses a document whose redirect_uris is %s', async (_name, redirectUris) => {
    serveJson('/client.json', documentFor('/client.json', { redirect_uris: redirectUris }));
    const { resolve } = setup();
    await expectInvalidClient(
      resolve(`${origin}/client.json`),
      'client metadata document is invalid: redirect_uris must be a non-empty array of strings',
    );
  });

  it.each(['client_secret_post', 'client_secret_basic', 'client_secret_jwt'])(
    'refuses token_endpoint_auth_method %s',
    async (method) => {
      serveJson('/client.json', documentFor('/client.json', { token_endpoint_auth_method: method }));
      const { resolve } = setup();
      await expectInvalidClient(
        resolve(`${origin}/client.json`),
        'client metadata document is invalid: token_endpoint_auth_method must not use a shared secret',
      );
    },
  );

  it.each([{ client_secret: 's3cret' }, { client_secret_expires_at: 0 }])('refuses a document carrying %o', async (extra) => {
    serveJson('/client.json', documentFor('/client.json', extra));
    const { resolve } = setup();
    await expectInvalidClient(
      resolve(`${origin}/client.json`),
      'client metadata document is invalid: it must not contain a client secret',
    );
  });

  it("reports the caller's validation failure", async () => {
    serveJson('/client.json', documentFor('/client.json', { client_name: 7 }));
    const { resolve } = setup();
    const error = await expectInvalidClient(
      resolve(`${origin}/client.json`),
      'client metadata document is invalid: client_name must be a string',
    );
    expect(error.cause).toMatchObject({ code: 'invalid_client_metadata' });
  });

  it('does not follow a redirect', async () => {
    serveJson('/client.json', documentFor('/client.json'));
    serve('/moved.json', (res) => res.writeHead(302, { location: `${origin}/client.json` }).end());
    const { resolve } = setup();

    await expectInvalidClient(
      resolve(`${origin}/moved.json`),
      'client metadata document could not be retrieved: redirects are not followed',
    );
    expect(hits('/moved.json')).toBe(1);
    expect(hits('/client.json')).toBe(0);
  });

  it('refuses a 404', async () => {
    const { resolve } = setup();
    await expectInvalidClient(
      resolve(`${origin}/missing.json`),
      'client metadata document could not be retrieved: HTTP status 404',
    );
  });

  it('refuses a document not served as JSON', async () => {
    serveJson('/client.json', documentFor('/client.json'), { 'content-type': 'text/html' });
    const { resolve } = setup();
    await expectInvalidClient(
      resolve(`${origin}/client.json`),
      'client metadata document is invalid: Content-Type must be application/json',
    );
  });

  it.each([
    ['malformed JSON', '{"client_id": ', 'client metadata document is invalid: malformed JSON'],
    ['a JSON array', '[]', 'client metadata document is invalid: not a JSON object'],
  ])('refuses %s', async (_name, body, description) => {
    serveJson('/client.json', body);
    const { resolve } = setup();
    await expectInvalidClient(resolve(`${origin}/client.json`), description);
  });

  it('refuses a body over 5 KiB announced by Content-Length', async () => {
    serveJson('/big.json', documentFor('/big.json', { client_name: 'x'.repeat(6000) }));
    const { resolve } = setup();
    const error = await expectInvalidClient(resolve(`${origin}/big.json`), 'client metadata document exceeds the size limit');
    expect(error.cause).toMatchObject({
      reason: 'too_large',
      message: expect.stringMatching(/^Content-Length \d+ exceeds 5120 bytes$/),
    });
  });

  it('refuses a chunked body over 5 KiB without Content-Length', async () => {
    serve('/chunked.json', (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let index = 0; index < 6; index += 1) res.write(' '.repeat(1024));
      res.end('{}');
    });
    const { resolve } = setup();
    const error = await expectInvalidClient(
      resolve(`${origin}/chunked.json`),
      'client metadata document exceeds the size limit',
    );
    expect(error.cause).toMatchObject({ reason: 'too_large', message: 'body exceeds 5120 bytes' });
  });

  it('gives up on a server that does not answer within the timeout', async () => {
    serve('/slow.json', () => {
      // never answers
    });
    const { resolve } = setup({ timeoutMs: 200 });
    const error = await expectInvalidClient(
      resolve(`${origin}/slow.json`),
      'client metadata document could not be retrieved in time',
    );
    expect(error.cause).toMatchObject({ reason: 'timeout', message: 'no complete response within 200 ms' });
  });

  it('gives up on a body that stalls after the headers, the timeout covering the whole exchange', async () => {
    serve('/stalls.json', (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"client_id":');
    });
    const { resolve } = setup({ timeoutMs: 200 });
    await expectInvalidClient(resolve(`${origin}/stalls.json`), 'client metadata document could not be retrieved in time');
  });

  it.each([
    'http://127.0.0.1/client.json',
    'https://127.0.0.1/',
    'https://127.0.0.1/client.json#x',
    'https://user:pw@127.0.0.1/client.json',
    'https://127.0.0.1/a/../client.json',
  ])('refuses client_id %s before fetching anything', async (clientId) => {
    let fetched = 0;
    const { resolve } = setup({
      fetch: async () => {
        fetched += 1;
        throw new Error('not reached');
      },
    });
    await expectInvalidClient(resolve(clientId), 'client_id is not a valid client metadata document URL');
    expect(fetched).toBe(0);
  });

  it('refuses a loopback document without the development flag, without connecting', async () => {
    serveJson('/client.json', documentFor('/client.json'));
    const { resolve } = setup({ allowLoopback: false });
    const error = await expectInvalidClient(
      resolve(`${origin}/client.json`),
      'client metadata document could not be retrieved',
    );
    expect(error.cause).toMatchObject({ reason: 'refused', message: 'address 127.0.0.1 is not allowed' });
    expect(requests).toHaveLength(0);
  });
});

describe('createGuardedFetch', () => {
  function neverResolve(): { lookup: ResolveHost; calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      lookup: async (hostname) => {
        calls.push(hostname);
        throw new Error('no name resolution expected');
      },
    };
  }

  it('returns a redirect as is, without reading or following it', async () => {
    serve('/moved.json', (res) => res.writeHead(301, { location: '/client.json' }).end('moved'));
    const fetch = createGuardedFetch({ allowLoopback: true, ca: certificate });
    const response = await fetch(new URL(`${origin}/moved.json`), LIMITS);
    expect({ status: response.status, location: response.headers.get('location'), body: response.body }).toEqual({
      status: 301,
      location: '/client.json',
      body: '',
    });
    expect(requests.map((request) => request.path)).toEqual(['/moved.json']);
  });

  it('refuses http:', async () => {
    const fetch = createGuardedFetch({ allowLoopback: true, ca: certificate });
    const url = new URL(`http://127.0.0.1:${port}/client.json`);
    await expectFetchError(fetch(url, LIMITS), 'refused', 'scheme http: is not https');
    expect(requests).toHaveLength(0);
  });

  it('keeps certificate verification on: an untrusted certificate fails before any request is sent', async () => {
    serveJson('/client.json', documentFor('/client.json'));
    const fetch = createGuardedFetch({ allowLoopback: true });
    await expectFetchError(fetch(new URL(`${origin}/client.json`), LIMITS), 'network', /self-signed certificate/);
    expect(requests).toHaveLength(0);
  });

  it.each([
    ['127.0.0.1', () => `https://127.0.0.1:${port}/client.json`, 'address 127.0.0.1 is not allowed'],
    ['[::1]', () => `https://[::1]:${port}/client.json`, 'address ::1 is not allowed'],
    ['decimal 2130706433', () => `https://2130706433:${port}/client.json`, 'address 127.0.0.1 is not allowed'],
    ['hex 0x7f.1', () => `https://0x7f.1:${port}/client.json`, 'address 127.0.0.1 is not allowed'],
    ['octal 0177.0.0.1', () => `https://0177.0.0.1:${port}/client.json`, 'address 127.0.0.1 is not allowed'],
    ['IPv4-mapped', () => `https://[::ffff:127.0.0.1]:${port}/client.json`, 'address ::ffff:7f00:1 is not allowed'],
  ])('refuses loopback %s without the flag, before any connection', async (_name, url, message) => {
    serveJson('/client.json', documentFor('/client.json'));
    const { lookup, calls } = neverResolve();
    const fetch = createGuardedFetch({ ca: certificate, lookup });
    await expectFetchError(fetch(new URL(url()), LIMITS), 'refused', message);
    expect(calls).toEqual([]);
    expect(requests).toHaveLength(0);
  });

  it('refuses localhost without the flag once resolved, before connecting', async () => {
    serveJson('/client.json', documentFor('/client.json'));
    const fetch = createGuardedFetch({ ca: certificate });
    await expectFetchError(
      fetch(new URL(`https://localhost:${port}/client.json`), LIMITS),
      'refused',
      /^localhost resolves to disallowed address (127\.0\.0\.1|::1)$/,
    );
    expect(requests).toHaveLength(0);
  });

  // No traffic goes to these: the refusal must come from the address check, never from a connection attempt (a
  // connect-time refusal or timeout would carry a different message and reason).
  it.each([
    ['https://10.0.0.1/x', 'address 10.0.0.1 is not allowed'],
    ['https://192.168.1.1/x', 'address 192.168.1.1 is not allowed'],
    ['https://169.254.169.254/latest/meta-data', 'address 169.254.169.254 is not allowed'],
    ['https://[::ffff:169.254.169.254]/x', 'address ::ffff:a9fe:a9fe is not allowed'],
    ['https://[fe80::1]/x', 'address fe80::1 is not allowed'],
    ['https://[fd00:ec2::254]/latest/meta-data', 'address fd00:ec2::254 is not allowed'],
    ['https://[64:ff9b::a9fe:a9fe]/x', 'address 64:ff9b::a9fe:a9fe is not allowed'],
  ])('refuses %s immediately, even with the loopback flag', async (url, message) => {
    const { lookup, calls } = neverResolve();
    const fetch = createGuardedFetch({ allowLoopback: true, ca: certificate, lookup });
    await expectFetchError(fetch(new URL(url), { timeoutMs: 60_000, maxBytes: 5120 }), 'refused', message);
    expect(calls).toEqual([]);
  });

  it('refuses a host name that resolves to loopback (DNS rebinding)', async () => {
    serveJson('/client.json', documentFor('/client.json'));
    const lookup: ResolveHost = async () => [{ address: '127.0.0.1', family: 4 }];
    const fetch = createGuardedFetch({ ca: certificate, lookup });
    await expectFetchError(
      fetch(new URL(`https://client.test:${port}/client.json`), LIMITS),
      'refused',
      'client.test resolves to disallowed address 127.0.0.1',
    );
    expect(requests).toHaveLength(0);
  });

  it.each<[string, LookupAddress[], string]>([
    [
      'a public and a loopback address',
      [{ address: '8.8.8.8', family: 4 }, { address: '127.0.0.1', family: 4 }],
      '127.0.0.1',
    ],
    [
      'a public and a metadata address',
      [{ address: '2606:4700::1111', family: 6 }, { address: '::ffff:a9fe:a9fe', family: 6 }],
      '::ffff:a9fe:a9fe',
    ],
  ])('refuses a host name resolving to %s, connecting to none of them', async (_name, addresses, refused) => {
    const fetch = createGuardedFetch({ allowLoopback: false, ca: certificate, lookup: async () => addresses });
    await expectFetchError(
      fetch(new URL('https://client.test/client.json'), { timeoutMs: 60_000, maxBytes: 5120 }),
      'refused',
      `client.test resolves to disallowed address ${refused}`,
    );
  });

  it('resolves a host once and connects to the checked address, with SNI and Host of the URL', async () => {
    serveJson('/client.json', { hello: 'world' });
    const answers = ['127.0.0.1', '10.0.0.1'];
    const calls: string[] = [];
    const lookup: ResolveHost = async (hostname) => {
      calls.push(hostname);
      // A rebinding resolver: a second question would get a private address.
      return [{ address: answers[calls.length - 1] ?? '10.0.0.1', family: 4 }];
    };
    const fetch = createGuardedFetch({ allowLoopback: true, ca: certificate, lookup });

    const response = await fetch(new URL(`https://client.test:${port}/client.json`), LIMITS);

    expect({ status: response.status, body: response.body }).toEqual({ status: 200, body: '{"hello":"world"}' });
    expect(calls).toEqual(['client.test']);
    expect(requests).toEqual([
      expect.objectContaining({
        servername: 'client.test',
        headers: expect.objectContaining({ host: `client.test:${port}` }),
      }),
    ]);
  });

  it('verifies the certificate against the URL host name, not the address connected to', async () => {
    serveJson('/client.json', { hello: 'world' });
    const fetch = createGuardedFetch({
      allowLoopback: true,
      ca: certificate,
      lookup: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    await expectFetchError(
      fetch(new URL(`https://other.test:${port}/client.json`), LIMITS),
      'network',
      /Hostname\/IP does not match certificate's altnames/,
    );
    expect(requests).toHaveLength(0);
  });
});
