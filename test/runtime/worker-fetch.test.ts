import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MetadataFetchError } from '../../oauth/client-metadata-document.js';
import { createWorkersMetadataFetch } from '../../src/runtime/worker-fetch.js';
import { createTestCertificate } from '../helpers/tls.js';

// The checks the Workers runtime's metadata fetch makes before any connection. The global fetch is replaced by one
// that records and fails, so that a check that let a URL through is seen here rather than sending traffic to a
// private or metadata-service address from the test machine.
const attempted: string[] = [];
afterEach(() => {
  vi.unstubAllGlobals();
  attempted.length = 0;
});

function refusing(): void {
  vi.stubGlobal('fetch', async (url: URL) => {
    attempted.push(url.href);
    throw new TypeError('this test makes no connections');
  });
}

const limits = { timeoutMs: 1000, maxBytes: 5120 };

describe('the Workers metadata fetch', () => {
  it.each([
    ['http', 'http://client.example.com/c.json'],
    ['a private address', 'https://10.0.0.1/c.json'],
    ['the cloud metadata service', 'https://169.254.169.254/latest/meta-data/c.json'],
    ['the metadata service in hexadecimal (the URL parser writes it dotted)', 'https://0xa9.0xfe.0xa9.0xfe/c.json'],
    ['an IPv6 literal', 'https://[fd00:ec2::254]/c.json'],
    ['an IPv4-mapped IPv6 literal', 'https://[::ffff:a9fe:a9fe]/c.json'],
    ['localhost', 'https://localhost/c.json'],
    ['localhost with a trailing dot', 'https://localhost./c.json'],
    ['a name under localhost', 'https://metadata.localhost/c.json'],
    ['loopback', 'https://127.0.0.1/c.json'],
  ])('refuses %s without connecting', async (_, url) => {
    refusing();
    const error = await createWorkersMetadataFetch({ allowLoopback: false })(new URL(url), limits).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MetadataFetchError);
    expect((error as MetadataFetchError).reason).toBe('refused');
    expect(attempted).toEqual([]);
  });

  it('lets a name through to the network, and loopback only for development', async () => {
    refusing();
    const fetchDocument = createWorkersMetadataFetch({ allowLoopback: false });
    await expect(fetchDocument(new URL('https://client.example.com/c.json'), limits)).rejects.toMatchObject({ reason: 'network' });
    await expect(createWorkersMetadataFetch({ allowLoopback: true })(new URL('https://127.0.0.1/c.json'), limits)).rejects.toMatchObject({ reason: 'network' });
    expect(attempted).toEqual(['https://client.example.com/c.json', 'https://127.0.0.1/c.json']);
  });
});

describe('the Workers metadata fetch against a real HTTPS server on loopback (allowLoopback, as in development)', () => {
  // The fetch runs in a child Node whose fetch trusts the test certificate (NODE_EXTRA_CA_CERTS is read at start-up),
  // from the built module (npm test builds before it tests).
  const built = fileURLToPath(new URL('../../dist/src/runtime/worker-fetch.js', import.meta.url));
  let server: Server;
  let origin: string;
  let dir: string;
  const document = JSON.stringify({ client_id: 'https://client.example.com/c.json', redirect_uris: ['https://client.example.com/cb'] });

  beforeAll(async () => {
    const { cert, key } = createTestCertificate();
    dir = await mkdtemp(join(tmpdir(), 'portcullis-worker-fetch-'));
    await writeFile(join(dir, 'ca.pem'), cert);
    server = createServer({ cert, key }, (req, res) => {
      if (req.url === '/ok') res.writeHead(200, { 'content-type': 'application/json' }).end(document);
      else if (req.url === '/streamed-big') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('x'.repeat(4000));
        res.end('x'.repeat(4000));
      } else if (req.url === '/declared-big') res.writeHead(200, { 'content-length': '6000' }).end('x'.repeat(6000));
      else if (req.url === '/redirect') res.writeHead(302, { location: 'https://10.0.0.1/c.json' }).end();
      else if (req.url === '/not-utf8') res.writeHead(200).end(Buffer.from([0x7b, 0xff, 0x7d]));
      // /slow: never answers
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  async function fetchInChild(path: string): Promise<{ status?: number; body?: string; reason?: string }> {
    const script = `
      const { createWorkersMetadataFetch } = await import(${JSON.stringify(built)});
      const fetchDocument = createWorkersMetadataFetch({ allowLoopback: true });
      try {
        const { status, body } = await fetchDocument(new URL(${JSON.stringify(origin + path)}), { timeoutMs: 500, maxBytes: 5120 });
        console.log(JSON.stringify({ status, body }));
      } catch (error) {
        console.log(JSON.stringify({ reason: error.reason }));
      }`;
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') }, timeout: 10_000 }, (error, out) => (error ? reject(error) : resolve(out))),
    );
    return JSON.parse(stdout) as { status?: number; body?: string; reason?: string };
  }

  it('reads a document, and refuses what is too large, slow, redirected or not UTF-8', async () => {
    expect(await fetchInChild('/ok')).toEqual({ status: 200, body: document });
    expect(await fetchInChild('/streamed-big')).toEqual({ reason: 'too_large' });
    expect(await fetchInChild('/declared-big')).toEqual({ reason: 'too_large' });
    expect(await fetchInChild('/slow')).toEqual({ reason: 'timeout' });
    // A redirect is not followed: the caller sees its status and no body.
    expect(await fetchInChild('/redirect')).toEqual({ status: 302, body: '' });
    expect(await fetchInChild('/not-utf8')).toEqual({ reason: 'network' });
  });
});
