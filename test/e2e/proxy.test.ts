import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoServer } from '../../src/demo/server.js';
import { serveSse, serveStreamableHttp, type ServedMcp, type ServedSse } from '../fixtures/serve.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { obtainTokens, registerClient, type RegisteredClient } from '../helpers/oauth.js';

// One tenant endpoint in front of four upstreams at once: the built-in demo (in-process), the demo over stdio
// (a child process the gateway starts), the demo over Streamable HTTP and over the older HTTP+SSE transport (real
// servers on loopback).
let gateway: TestGateway;
let remote: ServedMcp;
let legacy: ServedSse;
let client: RegisteredClient;
let token: string;
const UPSTREAM_KEY = `upstream-key-${crypto.randomUUID()}`;

beforeAll(async () => {
  [remote, legacy] = await Promise.all([serveStreamableHttp(() => createDemoServer()), serveSse(() => createDemoServer())]);
  gateway = await startTestGateway({
    rateLimits: { register: { perIp: { perMinute: 1000 } } },
    tenants: [
      {
        id: 'default',
        upstreams: [
          { id: 'demo', transport: 'demo' },
          { id: 'local', transport: 'stdio', command: process.execPath, args: ['bin/portcullis.js', 'demo-upstream'], maxProcesses: 4 },
          { id: 'remote', transport: 'streamable-http', url: remote.url, headers: { 'X-Upstream-Key': UPSTREAM_KEY } },
          { id: 'legacy', transport: 'sse', url: legacy.url },
        ],
      },
    ],
  });
  client = await registerClient(gateway);
  token = (await obtainTokens(gateway, client)).access_token;
});

afterAll(async () => {
  await gateway?.close();
  await remote?.close();
  await legacy?.close();
});

async function connect(accessToken = token): Promise<{ mcp: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(gateway.resource), { requestInit: { headers: { authorization: `Bearer ${accessToken}` } } });
  const mcp = new Client({ name: 'proxy-test', version: '1.0.0' });
  await mcp.connect(transport);
  return { mcp, transport };
}

describe('one endpoint, four upstreams', () => {
  it('lists every upstream tool under its prefix and calls each one', async () => {
    const { mcp } = await connect();
    try {
      const names = (await mcp.listTools()).tools.map((tool) => tool.name);
      for (const prefix of ['demo', 'local', 'remote', 'legacy']) {
        expect(names).toEqual(expect.arrayContaining([`${prefix}__echo`, `${prefix}__add`, `${prefix}__note_write`]));
        const sum = await mcp.callTool({ name: `${prefix}__add`, arguments: { a: 2, b: 3 } });
        expect(sum.isError).toBeFalsy();
        expect(JSON.stringify(sum.content)).toContain('5');
      }
      // State lives in each upstream: a note written through one prefix is read back through the same one only.
      await mcp.callTool({ name: 'remote__note_write', arguments: { title: 'plan', text: 'ship it' } });
      expect(JSON.stringify((await mcp.callTool({ name: 'remote__note_read', arguments: { title: 'plan' } })).content)).toContain('ship it');
      expect((await mcp.callTool({ name: 'demo__note_read', arguments: { title: 'plan' } })).isError).toBe(true);
    } finally {
      await mcp.close();
    }
  });

  it('reads resources and gets prompts through namespaced URIs and names', async () => {
    const { mcp } = await connect();
    try {
      const resources = (await mcp.listResources()).resources.map((resource) => resource.uri);
      expect(resources).toEqual(expect.arrayContaining(['demo+demo://notes', 'local+demo://notes', 'remote+demo://notes']));
      const read = await mcp.readResource({ uri: 'local+demo://notes' });
      expect(read.contents[0]?.uri).toBe('local+demo://notes');
      const prompts = (await mcp.listPrompts()).prompts.map((prompt) => prompt.name);
      expect(prompts).toEqual(expect.arrayContaining(['demo__summarize_notes', 'remote__summarize_notes']));
      expect((await mcp.getPrompt({ name: 'remote__summarize_notes' })).messages.length).toBeGreaterThan(0);
    } finally {
      await mcp.close();
    }
  });

  it('answers a tool no upstream has exactly like a missing tool', async () => {
    const { mcp } = await connect();
    try {
      await expect(mcp.callTool({ name: 'nowhere__echo', arguments: {} })).rejects.toMatchObject({ code: -32602, message: 'MCP error -32602: Unknown tool: nowhere__echo' });
      await expect(mcp.callTool({ name: 'echo', arguments: {} })).rejects.toMatchObject({ code: -32602 });
    } finally {
      await mcp.close();
    }
  });

  it('sends the upstream its own credentials and never the client token', async () => {
    const { mcp } = await connect();
    await mcp.callTool({ name: 'remote__echo', arguments: { text: 'hi' } });
    await mcp.close();
    expect(remote.requests.length).toBeGreaterThan(0);
    for (const request of remote.requests) {
      expect(request.headers['x-upstream-key']).toBe(UPSTREAM_KEY);
      expect(JSON.stringify(request.headers)).not.toContain(token);
      expect(request.headers.authorization).toBeUndefined();
      expect(request.headers.cookie).toBeUndefined();
    }
  });
});

describe('sessions', () => {
  it('binds a session to the subject and client: another client token with the same session id gets 404', async () => {
    const other = await registerClient(gateway);
    const otherToken = (await obtainTokens(gateway, other)).access_token;
    const { mcp, transport } = await connect();
    try {
      const response = await fetch(gateway.resource, {
        method: 'POST',
        headers: { authorization: `Bearer ${otherToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(response.status).toBe(404);
      // The owner still works.
      expect((await mcp.listTools()).tools.length).toBeGreaterThan(0);
    } finally {
      await mcp.close();
    }
  });

  it('requires a session id on every request but initialize, and ends the session on DELETE', async () => {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' };
    const missing = await fetch(gateway.resource, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    expect(missing.status).toBe(400);
    const { mcp, transport } = await connect();
    const sessionId = transport.sessionId!;
    await transport.terminateSession();
    const after = await fetch(gateway.resource, { method: 'POST', headers: { ...headers, 'mcp-session-id': sessionId }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) });
    expect(after.status).toBe(404);
    await mcp.close();
  });

  it('refuses an invalid MCP-Protocol-Version with 400', async () => {
    const { mcp, transport } = await connect();
    try {
      const response = await fetch(gateway.resource, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '1999-01-01' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(response.status).toBe(400);
    } finally {
      await mcp.close();
    }
  });

  it('runs every element of a JSON-RPC batch through the gateway, not only the first', async () => {
    const { mcp, transport } = await connect();
    try {
      const response = await fetch(gateway.resource, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify([
          { jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { name: 'demo__add', arguments: { a: 1, b: 2 } } },
          { jsonrpc: '2.0', id: 'b', method: 'tools/call', params: { name: 'nowhere__echo', arguments: {} } },
        ]),
      });
      expect(response.status).toBe(200);
      const messages = (await response.text())
        .split('\n')
        .filter((line) => line.startsWith('data: {'))
        .map((line) => JSON.parse(line.slice('data: '.length)) as { id: string; result?: { content: Array<{ text: string }> }; error?: { code: number } });
      const byId = new Map(messages.map((message) => [message.id, message]));
      expect(byId.get('a')?.result?.content[0]?.text).toContain('3');
      expect(byId.get('b')?.error).toMatchObject({ code: -32602 });
    } finally {
      await mcp.close();
    }
  });

  it('refuses a browser request from a foreign Origin with 403, even with a valid token', async () => {
    const response = await fetch(gateway.resource, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, origin: 'https://evil.example', 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
    });
    expect(response.status).toBe(403);
  });
});
