import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { createDemoServer } from '../src/demo/server.js';
import { runCli } from '../src/runtime/cli.js';

// The upstream of the tools/call benchmark: the project's demo MCP server in a process of its own.
//
//   node bench/.build/bench/upstream.js stdio   `portcullis demo-upstream`, the same CLI code path
//   node bench/.build/bench/upstream.js http    Streamable HTTP on a free loopback port; forked with IPC, it sends
//                                               { url } when listening and stops on 'close'
//
// Over HTTP it is stateful the way an SDK server usually is: one demo server per session, answers on SSE (the SDK's
// default), no event store; it exists to be measured, so it leaves out the test fixture's request log and
// DNS-rebinding checks (test/fixtures/serve.ts).

if (process.argv[2] === 'stdio') {
  const code = await runCli(['demo-upstream'], process.env, process);
  if (code !== undefined) process.exitCode = code;
} else if (process.argv[2] === 'http') {
  await serveHttp();
} else {
  process.stderr.write('usage: upstream.js stdio|http\n');
  process.exitCode = 2;
}

async function serveHttp(): Promise<void> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const server = createServer((req, res) => {
    const fail = (status: number, message: string) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message } }));
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const transport = sessions.get(sessionId);
      if (!transport) return fail(404, 'Session not found');
      void transport.handleRequest(req, res);
      return;
    }
    void readJson(req).then(async (body) => {
      if (req.method !== 'POST' || !isInitializeRequest(body)) return fail(400, 'Bad Request: Mcp-Session-Id header is required');
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          sessions.set(id, transport);
        },
      });
      transport.onclose = () => {
        if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
      };
      await createDemoServer().connect(transport);
      await transport.handleRequest(req, res, body);
    }, () => fail(400, 'Parse error'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  process.on('message', (message) => {
    if (message !== 'close') return;
    void Promise.all([...sessions.values()].map((transport) => transport.close())).then(() => {
      server.closeAllConnections();
      server.close(() => process.disconnect());
    });
  });
  process.send?.({ url: `http://127.0.0.1:${port}/mcp` });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}
