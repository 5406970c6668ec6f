import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { node22Version, runNode22, type Exit, type Node22Process } from '../helpers/node22.js';
import { freePort } from '../helpers/ports.js';

// The official MCP conformance suite's `authorization` command (pinned dev dependency
// @modelcontextprotocol/conformance@0.2.0-alpha.12, run on Node 22 from the npm package node@22) against a real
// gateway. The suite does not register a client itself: it takes --client-id, so the test registers one
// dynamically (RFC 7591) with the suite's callback URL, then completes the login and consent pages in Chromium
// when the suite prints the authorization URL. Pass/fail is read from the checks.json files the suite writes.

const CONFORMANCE = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/conformance/dist/index.js', import.meta.url));
const STEP_TIMEOUT = 20_000;

interface Check {
  id: string;
  name: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'SKIPPED' | 'INFO';
  errorMessage?: string;
  details?: Record<string, unknown>;
}

let gateway: TestGateway;
let browser: Browser;
let scratch: string;
const running = new Set<Node22Process>();
const servers = new Set<Server>();

beforeAll(async () => {
  [gateway, browser, scratch] = await Promise.all([startTestGateway(), launchBrowser(), mkdtemp(join(tmpdir(), 'portcullis-conformance-as-'))]);
});

afterAll(async () => {
  await Promise.all([...running].map((suite) => suite.kill()));
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
  await browser?.close();
  await gateway?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** Runs `conformance authorization <args>` on Node 22 with HOME and the working folder in a fresh temporary folder. */
async function runSuite(args: readonly string[]): Promise<{ suite: Node22Process; outputDir: string }> {
  const home = await mkdtemp(join(scratch, 'run-'));
  const outputDir = join(home, 'results');
  const suite = runNode22([CONFORMANCE, 'authorization', ...args, '--output-dir', outputDir], { cwd: home, env: { HOME: home } });
  running.add(suite);
  return { suite, outputDir };
}

async function finish(suite: Node22Process): Promise<Exit> {
  const exit = await suite.waitForExit(STEP_TIMEOUT);
  running.delete(suite);
  return exit;
}

/** The suite's own results: one `authorization-server-<scenario>-<timestamp>/checks.json` per scenario run. */
async function readResults(outputDir: string): Promise<Record<string, Check[]>> {
  const results: Record<string, Check[]> = {};
  for (const entry of await readdir(outputDir)) {
    const scenario = /^authorization-server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/.exec(entry)?.[1];
    if (scenario === undefined) throw new Error(`unexpected entry in the results folder: ${entry}`);
    results[scenario] = JSON.parse(await readFile(join(outputDir, entry, 'checks.json'), 'utf8')) as Check[];
  }
  return results;
}

/** Dynamic client registration (RFC 7591) of a public client whose only redirect URI is the suite's callback. */
async function registerClient(redirectUri: string): Promise<string> {
  const response = await fetch(`${gateway.baseUrl}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'MCP conformance suite',
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }),
  });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { client_id: string; redirect_uris: string[]; token_endpoint_auth_method: string; client_secret?: string };
  expect(body).toMatchObject({ redirect_uris: [redirectUri], token_endpoint_auth_method: 'none' });
  expect(body.client_secret).toBeUndefined();
  return body.client_id;
}

/**
 * A person in Chromium: signs in as demo/demo, allows or denies, and lets the browser follow the redirect to
 * the client's redirect URI. Returns where the browser landed and what that page said. (`authorizeInBrowser`
 * would intercept the redirect instead, but Playwright does not route a navigation that is the target of a
 * redirect, and here the target is a live listener that must receive it.)
 */
async function signInAndDecide(authorizationUrl: string, redirectUri: string, decision: 'allow' | 'deny'): Promise<{ url: string; text: string }> {
  const context = await browser.newContext();
  context.setDefaultTimeout(STEP_TIMEOUT);
  try {
    const page = await context.newPage();
    await page.goto(authorizationUrl);
    expect(await page.title()).toBe('Sign in · Portcullis');
    await page.getByLabel('Username').fill('demo');
    await page.getByLabel('Password').fill('demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${new URL(authorizationUrl).origin}/authorize/login`);
    expect(await page.title()).toBe('Authorize MCP conformance suite · Portcullis');
    await page.getByRole('button', { name: decision === 'allow' ? 'Allow' : 'Deny' }).click();
    await page.waitForURL((url) => url.href.startsWith(`${redirectUri}?`));
    return { url: page.url(), text: await page.locator('body').innerText() };
  } finally {
    await context.close();
  }
}

/**
 * Runs both authorization-server scenarios with a freshly registered client; when the suite prints the
 * authorization URL, a person signs in and decides in Chromium, and the browser follows the redirect to the
 * suite's callback listener.
 */
async function runBothScenarios(decision: 'allow' | 'deny') {
  const port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  const clientId = await registerClient(redirectUri);
  const { suite, outputDir } = await runSuite(['--url', gateway.baseUrl, '--client-id', clientId, '--resource', gateway.resource, '--port', String(port)]);

  await suite.waitForStdout(new RegExp(`Callback server started: http://127\\.0\\.0\\.1:${port}\\n`), STEP_TIMEOUT);
  const [, authorizationUrl] = await suite.waitForStdout(/complete the authentication process\.\n(\S+)\n/, STEP_TIMEOUT);
  const request = new URL(authorizationUrl!);
  expect(request.origin + request.pathname).toBe(`${gateway.baseUrl}/authorize`);
  expect(Object.fromEntries(request.searchParams)).toMatchObject({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, code_challenge_method: 'S256', resource: gateway.resource });

  const landed = await signInAndDecide(authorizationUrl!, redirectUri, decision);
  // The suite's listener answered the browser, so the redirect reached it, not an interception of ours.
  expect(landed.text).toBe('OK. You can close this page.');

  const exit = await finish(suite);
  return { exit, results: await readResults(outputDir), request, redirect: new URL(landed.url), suite };
}

describe('MCP conformance suite (authorization command) against the gateway', () => {
  it('runs on Node 22 from the npm package node@22', () => {
    expect(node22Version()).toMatch(/^v22\.\d+\.\d+$/);
  });

  it('passes authorization-server-metadata-endpoint and authorization-code-grant with a dynamically registered client', { timeout: 90_000 }, async () => {
    const { exit, results, request, redirect, suite } = await runBothScenarios('allow');

    expect(Object.keys(results).sort()).toEqual(['authorization-code-grant', 'authorization-server-metadata-endpoint']);
    const metadata = results['authorization-server-metadata-endpoint']!;
    expect(metadata.map(({ id, status, errorMessage }) => ({ id, status, errorMessage }))).toEqual([
      { id: 'authorization-server-metadata', status: 'SUCCESS', errorMessage: undefined },
      { id: 'authorization-server-metadata-cimd', status: 'SUCCESS', errorMessage: undefined },
    ]);
    expect(metadata[0]!.details).toMatchObject({ contentType: expect.stringContaining('application/json'), body: { issuer: gateway.baseUrl } });

    const grant = results['authorization-code-grant']!;
    expect(grant.map(({ id, status, errorMessage }) => ({ id, status, errorMessage }))).toEqual([{ id: 'authorization-code-grant', status: 'SUCCESS', errorMessage: undefined }]);
    // The suite redacts the tokens in its report; what is left is the shape of the token response.
    expect(grant[0]!.details).toMatchObject({ authorizationRequest: request.href, authorizationResponseUrl: redirect.href, body: { token_type: 'Bearer', scope: 'mcp', expires_in: 900 } });
    expect(grant[0]!.details?.body).not.toHaveProperty('refresh_token');

    // The authorization response the browser carried: one code, the suite's state, and the issuer (RFC 9207).
    expect(redirect.searchParams.getAll('code')).toHaveLength(1);
    expect(redirect.searchParams.getAll('state')).toEqual([request.searchParams.get('state')]);
    expect(redirect.searchParams.getAll('iss')).toEqual([gateway.baseUrl]);

    // The suite's own summary agrees with its files.
    expect(suite.stdout()).toContain('✓ authorization-server-metadata-endpoint: 2 passed, 0 failed\n✓ authorization-code-grant: 1 passed, 0 failed\n\nTotal: 3 passed, 0 failed');
    expect(exit).toEqual({ code: 0, signal: null });
  });

  it('reports authorization-code-grant as failed when the user denies consent', { timeout: 90_000 }, async () => {
    const { exit, results, redirect, suite } = await runBothScenarios('deny');

    expect(redirect.searchParams.get('error')).toBe('access_denied');
    expect(redirect.searchParams.has('code')).toBe(false);
    expect(results['authorization-server-metadata-endpoint']!.map((check) => check.status)).toEqual(['SUCCESS', 'SUCCESS']);
    expect(results['authorization-code-grant']!.map(({ id, status, errorMessage }) => ({ id, status, errorMessage }))).toEqual([
      { id: 'authorization-code-grant', status: 'FAILURE', errorMessage: 'Authorization error: access_denied the user denied the request' },
    ]);
    expect(suite.stdout()).toContain('✓ authorization-server-metadata-endpoint: 2 passed, 0 failed\n✗ authorization-code-grant: 0 passed, 1 failed\n\nTotal: 2 passed, 1 failed');
    expect(exit).toEqual({ code: 1, signal: null });
  });
});

describe('MCP conformance suite (authorization command) against a deliberately broken server', () => {
  /** A plain HTTP server whose only route is RFC 8414 metadata built from its own URL by `build`. */
  async function serveMetadata(build: (origin: string) => Record<string, unknown>): Promise<{ origin: string; hits: () => number }> {
    let hits = 0;
    let origin = '';
    const server = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/.well-known/oauth-authorization-server') {
        hits += 1;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(build(origin)));
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
    });
    servers.add(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { origin, hits: () => hits };
  }

  const metadataFor = (issuer: string, origin: string) => ({
    issuer,
    authorization_endpoint: `${origin}/authorize`,
    token_endpoint: `${origin}/token`,
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    client_id_metadata_document_supported: true,
  });

  async function runMetadataScenario(origin: string) {
    const { suite, outputDir } = await runSuite(['--url', origin, '--scenario', 'authorization-server-metadata-endpoint']);
    const exit = await finish(suite);
    return { exit, results: await readResults(outputDir) };
  }

  it('passes the metadata scenario when the document is right (the control)', { timeout: 60_000 }, async () => {
    const server = await serveMetadata((origin) => metadataFor(origin, origin));
    const { exit, results } = await runMetadataScenario(server.origin);

    expect(server.hits()).toBe(1);
    expect(results['authorization-server-metadata-endpoint']!.map(({ id, status }) => ({ id, status }))).toEqual([
      { id: 'authorization-server-metadata', status: 'SUCCESS' },
      { id: 'authorization-server-metadata-cimd', status: 'SUCCESS' },
    ]);
    expect(exit).toEqual({ code: 0, signal: null });
  });

  it('fails the metadata scenario when the issuer differs from the URL the metadata was fetched for', { timeout: 60_000 }, async () => {
    const server = await serveMetadata((origin) => metadataFor(`${origin}/elsewhere`, origin));
    const { exit, results } = await runMetadataScenario(server.origin);

    expect(server.hits()).toBe(1);
    expect(Object.keys(results)).toEqual(['authorization-server-metadata-endpoint']);
    expect(results['authorization-server-metadata-endpoint']!.map(({ id, status, errorMessage }) => ({ id, status, errorMessage }))).toEqual([
      { id: 'authorization-server-metadata', status: 'FAILURE', errorMessage: `Invalid issuer: ${server.origin}/elsewhere` },
      { id: 'authorization-server-metadata-cimd', status: 'SUCCESS', errorMessage: undefined },
    ]);
    expect(exit).toEqual({ code: 1, signal: null });
  });
});
