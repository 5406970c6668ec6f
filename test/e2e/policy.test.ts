import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { decodeJwt } from 'jose';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserOAuthProvider, launchBrowser } from '../helpers/browser.js';
import { demoPasswordHash, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { obtainTokens, registerClient } from '../helpers/oauth.js';

// Tool-level policy through real clients: what a caller may not use is not listed and answers like a name that does
// not exist; what it could use with more scope stays listed and is challenged with 403 insufficient_scope, which
// the SDK client follows by authorizing again for exactly the challenged scopes.
let gateway: TestGateway;
let browser: Browser;
let token: string;

beforeAll(async () => {
  [gateway, browser] = await Promise.all([
    startTestGateway({
      rateLimits: { register: { perIp: { perMinute: 1000 } } },
      users: [{ username: 'demo', name: 'Demo user', passwordHash: await demoPasswordHash(), tenants: ['default'], groups: ['staff'] }],
      tenants: [
        {
          id: 'default',
          scopes: [{ name: 'notes:write', description: 'Write notes' }],
          upstreams: [{ id: 'demo', transport: 'demo' }],
          policy: {
            default: 'deny',
            rules: [
              { id: 'read-only-tools', effect: 'allow', annotations: { readOnlyHint: true }, description: 'read-only tools are open to everyone' },
              { id: 'no-clock', effect: 'deny', tools: ['current_time'] },
              { id: 'note-writes', effect: 'allow', tools: ['note_write'], scopes: ['notes:write'] },
              { id: 'small-sums', effect: 'deny', tools: ['add'], when: 'args.a > 1000 || args.b > 1000' },
              { id: 'notes-for-staff', effect: 'allow', groups: ['staff'], resources: ['demo://notes'] },
            ],
          },
        },
      ],
    }),
    launchBrowser(),
  ]);
  token = (await obtainTokens(gateway, await registerClient(gateway))).access_token;
});

afterAll(async () => {
  await Promise.all([browser?.close(), gateway?.close()]);
});

async function connect(): Promise<Client> {
  const mcp = new Client({ name: 'policy-test', version: '1.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(gateway.resource), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return mcp;
}

async function errorOf(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  const error = await call.then(
    () => expect.unreachable('expected a JSON-RPC error'),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(McpError);
  return { code: (error as McpError).code, message: (error as McpError).message };
}

describe('tool-level policy seen by a real client', () => {
  it('lists only what the caller may use, and keeps what it may use with more scope', async () => {
    const mcp = await connect();
    try {
      expect((await mcp.listTools()).tools.map((tool) => tool.name).sort()).toEqual(['demo__add', 'demo__echo', 'demo__note_list', 'demo__note_read', 'demo__note_write']);
      expect((await mcp.listResources()).resources.map((resource) => resource.uri)).toEqual(['demo+demo://notes']);
      expect((await mcp.listResourceTemplates()).resourceTemplates).toEqual([]);
      expect((await mcp.listPrompts()).prompts).toEqual([]);
    } finally {
      await mcp.close();
    }
  });

  it('answers a denied call exactly as it answers a tool that does not exist', async () => {
    const mcp = await connect();
    try {
      const denied = await errorOf(mcp.callTool({ name: 'demo__current_time', arguments: {} }));
      const missing = await errorOf(mcp.callTool({ name: 'demo__no_such_tool', arguments: {} }));
      expect(denied).toEqual({ code: missing.code, message: missing.message.replace('demo__no_such_tool', 'demo__current_time') });
      expect(denied).toEqual({ code: -32602, message: 'MCP error -32602: Unknown tool: demo__current_time' });
      const prompt = await errorOf(mcp.getPrompt({ name: 'demo__summarize_notes' }));
      expect(prompt.message).toBe('MCP error -32602: Unknown prompt: demo__summarize_notes');
    } finally {
      await mcp.close();
    }
  });

  it('decides on the arguments of each call', async () => {
    const mcp = await connect();
    try {
      expect((await mcp.callTool({ name: 'demo__add', arguments: { a: 2, b: 3 } })).structuredContent).toEqual({ sum: 5 });
      expect(await errorOf(mcp.callTool({ name: 'demo__add', arguments: { a: 2000, b: 3 } }))).toEqual({ code: -32602, message: 'MCP error -32602: Unknown tool: demo__add' });
    } finally {
      await mcp.close();
    }
  });

  it('challenges a call that needs more scope with 403 insufficient_scope naming every scope to ask for, batch or not', async () => {
    const mcp = await connect();
    const transport = mcp.transport as StreamableHTTPClientTransport;
    try {
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-11-25' };
      const write = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'demo__note_write', arguments: { title: 't', text: 'x' } } };
      for (const body of [write, [{ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'demo__echo', arguments: { text: 'hi' } } }, write]]) {
        const response = await fetch(gateway.resource, { method: 'POST', headers, body: JSON.stringify(body) });
        expect(response.status).toBe(403);
        expect(response.headers.get('www-authenticate')).toBe(
          `Bearer resource_metadata="${gateway.baseUrl}/.well-known/oauth-protected-resource/mcp", scope="mcp notes:write", error="insufficient_scope", error_description="this request needs the scope notes:write"`,
        );
        expect(await response.json()).toEqual({ error: 'insufficient_scope', error_description: 'this request needs the scope notes:write' });
      }
    } finally {
      await mcp.close();
    }
  });

  it('the SDK client steps up: it authorizes again for the challenged scopes, and the call then succeeds in the same session', async () => {
    // SDK 1.32's auth() answers a challenge by refreshing when it holds a refresh token, and a refresh cannot add
    // scopes (RFC 6749 §6), so it gives up ("403 after trying upscoping"). A client without refresh tokens re-authorizes.
    const provider = new BrowserOAuthProvider(browser, ['authorization_code']);
    const first = new StreamableHTTPClientTransport(new URL(gateway.resource), { authProvider: provider });
    await expect(new Client({ name: 'policy-step-up', version: '1.0.0' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    await first.finishAuth(provider.callbacks[0]!.searchParams.get('code')!);
    const transport = new StreamableHTTPClientTransport(new URL(gateway.resource), { authProvider: provider });
    const mcp = new Client({ name: 'policy-step-up', version: '1.0.0' });
    await mcp.connect(transport);
    expect(decodeJwt(provider.tokens()!.access_token).scope).toBe('mcp');
    const sessionId = transport.sessionId;

    await expect(mcp.callTool({ name: 'demo__note_write', arguments: { title: 'stepped', text: 'up' } })).rejects.toBeInstanceOf(UnauthorizedError);
    expect(provider.authorizationUrls).toHaveLength(2);
    expect(provider.authorizationUrls[1]!.searchParams.get('scope')).toBe('mcp notes:write');
    await transport.finishAuth(provider.callbacks[1]!.searchParams.get('code')!);
    expect(decodeJwt(provider.tokens()!.access_token).scope).toBe('mcp notes:write');

    const written = await mcp.callTool({ name: 'demo__note_write', arguments: { title: 'stepped', text: 'up' } });
    expect(written.isError).toBeFalsy();
    expect(transport.sessionId).toBe(sessionId);
    expect(JSON.stringify((await mcp.callTool({ name: 'demo__note_read', arguments: { title: 'stepped' } })).content)).toContain('up');
    await mcp.close();
  });
});
