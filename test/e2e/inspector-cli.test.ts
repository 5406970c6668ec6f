import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeInBrowser, launchBrowser } from '../helpers/browser.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { runNode22, type Node22Process } from '../helpers/node22.js';

// Test 4 of the issue: MCP Inspector's CLI (2.12, on Node 22) obtains a token through the gateway. It discovers
// the gateway from the 401 on /mcp, registers itself (RFC 7591), prints the authorization URL, and waits on a
// loopback listener for the browser to come back; Chromium signs in as demo/demo, consents, and follows the
// redirect to that listener. The Inspector then calls /mcp with its token and lists the tools of the tenant's
// upstream, the built-in demo server, through the gateway.

const INSPECTOR = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js', import.meta.url));

const DEMO_TOOLS = ['demo__echo', 'demo__add', 'demo__current_time', 'demo__note_write', 'demo__note_read', 'demo__note_list'];

/** The tool names a successful `tools/list` run printed on stdout. */
function listedTools(cli: Node22Process): string[] {
  return (JSON.parse(cli.stdout()) as { tools: Array<{ name: string }> }).tools.map((tool) => tool.name);
}

let gateway: TestGateway;
let browser: Browser;
let home: string;
const clis: Node22Process[] = [];

beforeAll(async () => {
  [gateway, browser, home] = await Promise.all([startTestGateway({ tenants: [{ id: 'default', upstreams: [{ id: 'demo', transport: 'demo' }] }] }), launchBrowser(), mkdtemp(join(tmpdir(), 'portcullis-inspector-'))]);
});

afterAll(async () => {
  await Promise.all(clis.map((cli) => cli.kill()));
  await browser?.close();
  await gateway?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

/**
 * Runs `mcp-inspector --cli <args>` with HOME in this file's temporary folder, where it keeps its state and (with
 * the file secret store, never the OS keychain) its tokens. Without a TTY the CLI refuses interactive OAuth unless
 * MCP_AUTO_OPEN_ENABLED=true; that also makes it try to open a browser, so BROWSER is a no-op for xdg-open and no
 * display is offered: the test's own Chromium is the only browser.
 */
function inspector(args: readonly string[]): Node22Process {
  const cli = runNode22([INSPECTOR, '--cli', ...args], {
    cwd: home,
    env: {
      HOME: home,
      MCP_AUTO_OPEN_ENABLED: 'true',
      MCP_INSPECTOR_SECRET_STORE: 'file',
      BROWSER: 'true',
      DISPLAY: '',
      WAYLAND_DISPLAY: '',
      XDG_CURRENT_DESKTOP: '',
    },
  });
  clis.push(cli);
  return cli;
}

/** Resolves with the first match of `pattern` in the CLI's stderr; fails after `timeoutMs` or when it exits first. */
async function waitForStderr(cli: Node22Process, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(cli.stderr());
    if (match) return match;
    const exited = cli.child.exitCode !== null || cli.child.signalCode !== null;
    if (exited || Date.now() > deadline) {
      const why = exited ? `it exited with ${cli.child.exitCode ?? cli.child.signalCode}` : `timed out after ${timeoutMs} ms`;
      throw new Error(`no ${pattern} on the CLI's stderr: ${why}\n--- stdout ---\n${cli.stdout()}\n--- stderr ---\n${cli.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('MCP Inspector CLI', () => {
  it('registers, gets a token through the browser, and calls /mcp with it', { timeout: 90_000 }, async () => {
    // Port 0: the CLI's callback listener takes a free port and puts it in the redirect URI it registers.
    const run = inspector(['--method', 'tools/list', '--server-url', gateway.resource, '--transport', 'http', '--callback-url', 'http://127.0.0.1:0/oauth/callback']);

    const authorizationUrl = new URL((await waitForStderr(run, /^Please navigate to: (\S+)$/m, 30_000))[1]!);
    expect(authorizationUrl.origin + authorizationUrl.pathname).toBe(`${gateway.baseUrl}/authorize`);
    const params = authorizationUrl.searchParams;
    const redirectUri = new URL(params.get('redirect_uri') ?? '');
    expect(redirectUri.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(redirectUri.port).not.toBe('6276');
    expect(redirectUri.pathname).toBe('/oauth/callback');
    expect(params.get('response_type')).toBe('code');
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('resource')).toBe(gateway.resource);
    expect(params.get('scope')).toBe('mcp offline_access');
    // Not given a client ID or a metadata document URL, the CLI must have registered one at /register.
    const clientId = params.get('client_id') ?? '';
    expect(clientId).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    const state = params.get('state');
    expect(state).toBeTruthy();

    // The gateway knows the client by the name the CLI registered, and accepts its loopback redirect URI.
    const loginPage = await fetch(authorizationUrl);
    expect(loginPage.status).toBe(200);
    expect(await loginPage.text()).toContain('to continue to <strong>MCP Inspector</strong>');

    const callback = new URL(await authorizeInBrowser(browser, authorizationUrl.href, { followFinalRedirect: true }));
    expect(callback.origin + callback.pathname).toBe(redirectUri.href);
    expect(callback.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('iss')).toBe(gateway.config.issuer);

    // A 401 or 403 from /mcp would be exit 3, "auth_required".
    expect(await run.waitForExit(30_000)).toEqual({ code: 0, signal: null });
    expect(run.stderr()).toMatch(/^Authorization complete\.$/m);
    expect(listedTools(run)).toEqual(expect.arrayContaining(DEMO_TOOLS));
  });

  it('keeps the token under HOME and calls /mcp with it again without a browser', { timeout: 60_000 }, async () => {
    const list = inspector(['--list-stored-auth']);
    expect(await list.waitForExit(30_000)).toEqual({ code: 0, signal: null });
    expect(JSON.parse(list.stdout())).toEqual({ oauthStatePath: join(home, '.mcp-inspector', 'storage', 'oauth.json'), storedServerUrls: [gateway.resource] });

    const again = inspector(['--method', 'tools/list', '--server-url', gateway.resource, '--transport', 'http', '--stored-auth-only']);
    expect(await again.waitForExit(30_000)).toEqual({ code: 0, signal: null });
    expect(again.stderr()).not.toContain('Please navigate to');
    expect(listedTools(again)).toEqual(expect.arrayContaining(DEMO_TOOLS));
  });
});
