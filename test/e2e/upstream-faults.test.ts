import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamConfig } from '../../src/config/schema.js';
import { UPSTREAM_FAILED } from '../../src/mcp/upstream-errors.js';
import { closedPort, createSlowServer, isAlive, serveFaultyUpstream, writeCrashingStdioServer, type CrashingScript, type FaultyUpstream } from '../fixtures/faulty-upstreams.js';
import { serveStreamableHttp, type ServedMcp } from '../fixtures/serve.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { obtainTokens, registerClient } from '../helpers/oauth.js';

// One tenant in front of a healthy upstream (the built-in demo) and upstreams that fail in every way the issue
// names: a stdio child that exits mid-call, an HTTP upstream that never answers (and one that is slow but reports
// progress), one that answers garbage or cuts its stream, one that is down, and one that forgets its sessions.
const SLOW_TIMEOUT_MS = 500;
const FAULTY_TIMEOUT_MS = 1000;
/** Slack for a timeout to fire and its error to travel back through the gateway. */
const MARGIN_MS = 1000;

let gateway: TestGateway;
let slow: ServedMcp;
let capped: ServedMcp;
let faulty: FaultyUpstream;
let script: CrashingScript;
let upstreams: UpstreamConfig[];
// Below the 1.6 s the slow tool takes, above its 200 ms between progress notifications.
const CAPPED_TOTAL_MS = 800;
let token: string;
const pids = new Set<number>();

beforeAll(async () => {
  [slow, capped, faulty, script] = await Promise.all([serveStreamableHttp(() => createSlowServer()), serveStreamableHttp(() => createSlowServer()), serveFaultyUpstream(), writeCrashingStdioServer()]);
  upstreams = [
    { id: 'demo', transport: 'demo', timeoutMs: 30_000, maxTotalTimeoutMs: 600_000 },
    { id: 'crash', transport: 'stdio', command: process.execPath, args: [script.path], env: {}, inheritEnv: [], maxProcesses: 8, timeoutMs: 30_000, maxTotalTimeoutMs: 600_000 },
    { id: 'slow', transport: 'streamable-http', url: slow.url, headers: {}, timeoutMs: SLOW_TIMEOUT_MS, maxTotalTimeoutMs: 600_000 },
    { id: 'capped', transport: 'streamable-http', url: capped.url, headers: {}, timeoutMs: SLOW_TIMEOUT_MS, maxTotalTimeoutMs: CAPPED_TOTAL_MS },
    { id: 'faulty', transport: 'streamable-http', url: faulty.url, headers: {}, timeoutMs: FAULTY_TIMEOUT_MS, maxTotalTimeoutMs: 600_000 },
    { id: 'down', transport: 'streamable-http', url: `http://127.0.0.1:${await closedPort()}/mcp`, headers: {}, timeoutMs: FAULTY_TIMEOUT_MS, maxTotalTimeoutMs: 600_000 },
  ];
  gateway = await startTestGateway({ rateLimits: { register: { perIp: { perMinute: 1000 } } }, tenants: [{ id: 'default', upstreams }] });
  token = (await obtainTokens(gateway, await registerClient(gateway))).access_token;
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([slow?.close(), capped?.close(), faulty?.close(), script?.remove()]);
  // Whatever a test left behind, no child of ours outlives the file.
  for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
});

interface Session {
  mcp: Client;
  transport: StreamableHTTPClientTransport;
  /** Ends the session like a client that is done: DELETE, then close. */
  end(): Promise<void>;
}

async function openSession(target: { resource: string } = gateway, accessToken = token): Promise<Session> {
  const transport = new StreamableHTTPClientTransport(new URL(target.resource), { requestInit: { headers: { authorization: `Bearer ${accessToken}` } } });
  const mcp = new Client({ name: 'upstream-faults-test', version: '1.0.0' });
  await mcp.connect(transport, { timeout: 10_000 });
  return {
    mcp,
    transport,
    async end() {
      await transport.terminateSession();
      await mcp.close();
    },
  };
}

/** The error a call ends with, and how long it took; fails if the call succeeds. */
async function failure(call: Promise<unknown>): Promise<{ error: McpError; elapsed: number }> {
  const started = performance.now();
  const error = await call.then(
    (result) => new Error(`expected an error, got ${JSON.stringify(result)}`),
    (reason: unknown) => reason,
  );
  const elapsed = performance.now() - started;
  expect(error).toBeInstanceOf(McpError);
  return { error: error as McpError, elapsed };
}

async function echo(mcp: Client, text: string): Promise<string> {
  const result = await mcp.callTool({ name: 'demo__echo', arguments: { text } }, undefined, { timeout: 10_000 });
  expect(result.isError).toBeFalsy();
  return JSON.stringify(result.content);
}

async function childPid(mcp: Client): Promise<number> {
  const result = await mcp.callTool({ name: 'crash__pid', arguments: {} }, undefined, { timeout: 10_000 });
  const pid = Number((result.content as Array<{ text: string }>)[0]?.text);
  expect(Number.isInteger(pid) && pid > 0, `not a pid: ${JSON.stringify(result.content)}`).toBe(true);
  pids.add(pid);
  return pid;
}

/** Polls until `condition` holds, for at most `ms`; fails with `what` otherwise. */
async function eventually(what: string, condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`still not true after ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function toolNames(mcp: Client): Promise<string[]> {
  return (await mcp.listTools(undefined, { timeout: 10_000 })).tools.map((tool) => tool.name);
}

describe('a stdio upstream that crashes mid-call', () => {
  it('fails that call with a clear error; the other upstreams keep working and a new session gets a new process', async () => {
    const first = await openSession();
    const pid = await childPid(first.mcp);
    expect(isAlive(pid)).toBe(true);

    const { error } = await failure(first.mcp.callTool({ name: 'crash__crash', arguments: {} }, undefined, { timeout: 10_000 }));
    expect({ code: error.code, message: error.message, data: error.data }).toEqual({
      code: UPSTREAM_FAILED,
      message: `MCP error ${UPSTREAM_FAILED}: upstream "crash" closed the connection before answering`,
      data: { upstream: 'crash' },
    });
    await eventually(`the crashed child ${pid} is gone`, () => !isAlive(pid));

    // The same session: the demo upstream still answers, and the next request to the crashed one starts a new process.
    expect(await echo(first.mcp, 'still here')).toContain('still here');
    const restartedPid = await childPid(first.mcp);
    expect(restartedPid).not.toBe(pid);
    expect(await toolNames(first.mcp)).toEqual(expect.arrayContaining(['crash__pid', 'crash__crash', 'demo__echo']));

    // A new session has a process of its own.
    const second = await openSession();
    const secondPid = await childPid(second.mcp);
    expect([pid, restartedPid]).not.toContain(secondPid);
    await Promise.all([first.end(), second.end()]);
    await eventually(`the children ${restartedPid} and ${secondPid} exit with their sessions`, () => !isAlive(restartedPid) && !isAlive(secondPid));
  });
});

describe('an upstream that hangs or is slow', () => {
  it('gives a JSON-RPC error within the upstream timeout, never a hung request', async () => {
    const session = await openSession();
    try {
      const { error, elapsed } = await failure(session.mcp.callTool({ name: 'slow__hang', arguments: {} }, undefined, { timeout: 20_000 }));
      expect({ code: error.code, message: error.message, data: error.data }).toEqual({
        code: -32001,
        message: `MCP error -32001: upstream "slow" did not answer within ${SLOW_TIMEOUT_MS} ms`,
        data: { upstream: 'slow', timeoutMs: SLOW_TIMEOUT_MS },
      });
      expect(elapsed).toBeGreaterThanOrEqual(SLOW_TIMEOUT_MS - 50);
      expect(elapsed).toBeLessThan(SLOW_TIMEOUT_MS + MARGIN_MS);
      expect(await echo(session.mcp, 'after the hang')).toContain('after the hang');
    } finally {
      await session.end();
    }
  });

  it('caps a call that keeps sending progress at the upstream maxTotalTimeoutMs', async () => {
    const session = await openSession();
    try {
      const { error, elapsed } = await failure(session.mcp.callTool({ name: 'capped__slow', arguments: { steps: 8 } }, undefined, { timeout: 20_000 }));
      expect({ code: error.code, message: error.message, data: error.data }).toEqual({
        code: -32001,
        message: `MCP error -32001: upstream "capped" did not finish within ${CAPPED_TOTAL_MS} ms`,
        data: { upstream: 'capped', maxTotalTimeoutMs: CAPPED_TOTAL_MS },
      });
      expect(elapsed).toBeGreaterThanOrEqual(CAPPED_TOTAL_MS - 50);
      expect(elapsed).toBeLessThan(CAPPED_TOTAL_MS + MARGIN_MS);
    } finally {
      await session.end();
    }
  });

  it('lets progress notifications reset the timeout: 1.5 s of work with progress every 200 ms succeeds', async () => {
    const session = await openSession();
    try {
      const progress: Progress[] = [];
      const relayed = await session.mcp.callTool({ name: 'slow__slow', arguments: { steps: 8 } }, undefined, { timeout: 20_000, onprogress: (update) => progress.push(update) });
      expect(relayed.content).toEqual([{ type: 'text', text: 'done after 8 steps' }]);
      // The client asked for progress, so it sees every update the upstream sent.
      expect(progress.map((update) => update.progress)).toEqual([1, 2, 3, 4, 5, 6, 7]);

      // A client that asks for no progress still gets its answer: the gateway asks the upstream for progress itself.
      const quiet = await session.mcp.callTool({ name: 'slow__slow', arguments: { steps: 8 } }, undefined, { timeout: 20_000 });
      expect(quiet.content).toEqual([{ type: 'text', text: 'done after 8 steps' }]);
    } finally {
      await session.end();
    }
  });
});

describe('an upstream that answers garbage', () => {
  it.each([
    ['not_json', 'a body that is not JSON'],
    ['not_jsonrpc', 'JSON that is not JSON-RPC'],
    ['bad_result', 'a result that is not a tool result'],
  ])('answers %s (%s) with a clear error, and the gateway keeps serving', async (tool) => {
    const session = await openSession();
    try {
      const { error, elapsed } = await failure(session.mcp.callTool({ name: `faulty__${tool}`, arguments: {} }, undefined, { timeout: 20_000 }));
      expect({ code: error.code, message: error.message, data: error.data }).toEqual({
        code: UPSTREAM_FAILED,
        message: `MCP error ${UPSTREAM_FAILED}: upstream "faulty" sent an invalid response`,
        data: { upstream: 'faulty' },
      });
      // Nothing of what the upstream sent leaks into the message, and it did not wait for a timeout.
      expect(error.message).not.toMatch(/hello|not a list|"te/);
      expect(elapsed).toBeLessThan(FAULTY_TIMEOUT_MS);
      // The same session still works, on the faulty upstream's good tool too, and so does a new session.
      expect(JSON.stringify((await session.mcp.callTool({ name: 'faulty__ok', arguments: { text: 'fine' } })).content)).toContain('ok:fine');
      expect(await echo(session.mcp, 'same session')).toContain('same session');
      const other = await openSession();
      expect(await echo(other.mcp, 'new session')).toContain('new session');
      await other.end();
    } finally {
      await session.end();
    }
  });
});

describe('an upstream that fails at the HTTP level', () => {
  it('answers an HTTP error with its status only, none of the body', async () => {
    const session = await openSession();
    try {
      const { error } = await failure(session.mcp.callTool({ name: 'faulty__http_error', arguments: {} }, undefined, { timeout: 20_000 }));
      expect({ code: error.code, message: error.message, data: error.data }).toEqual({
        code: UPSTREAM_FAILED,
        message: `MCP error ${UPSTREAM_FAILED}: upstream "faulty" answered with HTTP status 500`,
        data: { upstream: 'faulty' },
      });
      expect(error.message).not.toContain(faulty.internalMarker);
      expect(await echo(session.mcp, 'after the 500')).toContain('after the 500');
    } finally {
      await session.end();
    }
  });
});

describe('an upstream that closes its stream mid-response', () => {
  // The SDK's client transport gives up on a response stream that breaks before any event id (nothing to resume), but
  // does not fail the request; the upstream timeout does, so the request never hangs.
  it('gives a clear error no later than the upstream timeout', async () => {
    const session = await openSession();
    try {
      const progress: Progress[] = [];
      const { error, elapsed } = await failure(session.mcp.callTool({ name: 'faulty__cut', arguments: {} }, undefined, { timeout: 20_000, onprogress: (update) => progress.push(update) }));
      expect({ code: error.code, message: error.message, data: error.data }).toEqual({
        code: -32001,
        message: `MCP error -32001: upstream "faulty" did not answer within ${FAULTY_TIMEOUT_MS} ms`,
        data: { upstream: 'faulty', timeoutMs: FAULTY_TIMEOUT_MS },
      });
      expect(elapsed).toBeLessThan(FAULTY_TIMEOUT_MS + MARGIN_MS);
      // What arrived before the cut was relayed.
      expect(progress).toEqual([{ progress: 1, total: 2 }]);
      expect(await echo(session.mcp, 'after the cut')).toContain('after the cut');
      expect(JSON.stringify((await session.mcp.callTool({ name: 'faulty__ok', arguments: { text: 'x' } })).content)).toContain('ok:x');
    } finally {
      await session.end();
    }
  });
});

describe('an upstream that is down when the session starts', () => {
  it('leaves its tools out, keeps the others, and answers its names like unknown tools', async () => {
    const session = await openSession();
    try {
      const names = await toolNames(session.mcp);
      expect(names).toEqual(expect.arrayContaining(['demo__echo', 'crash__pid', 'slow__hang', 'faulty__ok']));
      expect(names.filter((name) => name.startsWith('down__'))).toEqual([]);
      const down = await failure(session.mcp.callTool({ name: 'down__x', arguments: {} }));
      const unknown = await failure(session.mcp.callTool({ name: 'nowhere__x', arguments: {} }));
      expect({ code: down.error.code, message: down.error.message }).toEqual({ code: -32602, message: 'MCP error -32602: Unknown tool: down__x' });
      expect({ code: unknown.error.code, message: unknown.error.message }).toEqual({ code: -32602, message: 'MCP error -32602: Unknown tool: nowhere__x' });
    } finally {
      await session.end();
    }
  });
});

describe('an upstream that goes down during a session', () => {
  it('answers calls to it with a clear error at once, and the other upstreams keep working', async () => {
    const doomed = await serveFaultyUpstream();
    const own = await startTestGateway({
      rateLimits: { register: { perIp: { perMinute: 1000 } } },
      tenants: [{ id: 'default', upstreams: [{ id: 'demo', transport: 'demo' }, { id: 'doomed', transport: 'streamable-http', url: doomed.url, timeoutMs: 10_000 }] }],
    });
    try {
      const session = await openSession(own, (await obtainTokens(own, await registerClient(own))).access_token);
      expect(JSON.stringify((await session.mcp.callTool({ name: 'doomed__ok', arguments: { text: 'up' } })).content)).toContain('ok:up');
      await doomed.close();
      const { error, elapsed } = await failure(session.mcp.callTool({ name: 'doomed__ok', arguments: {} }, undefined, { timeout: 20_000 }));
      expect({ code: error.code, message: error.message, data: error.data }).toEqual({
        code: UPSTREAM_FAILED,
        message: `MCP error ${UPSTREAM_FAILED}: upstream "doomed" could not be reached`,
        data: { upstream: 'doomed' },
      });
      expect(elapsed).toBeLessThan(MARGIN_MS);
      expect(await echo(session.mcp, 'still up')).toContain('still up');
      await session.end();
    } finally {
      await own.close();
      await doomed.close();
    }
  });
});

describe('an upstream session that expires', () => {
  it('is re-initialized transparently: the next call succeeds', async () => {
    const session = await openSession();
    try {
      expect(JSON.stringify((await session.mcp.callTool({ name: 'faulty__ok', arguments: { text: 'before' } })).content)).toContain('ok:before');
      const initializes = faulty.initializes();
      faulty.forgetSessions();
      expect(JSON.stringify((await session.mcp.callTool({ name: 'faulty__ok', arguments: { text: 'after' } })).content)).toContain('ok:after');
      expect(faulty.initializes()).toBe(initializes + 1);
      expect(faulty.sessions()).toBe(1);
      // Listing goes to the new upstream session as well.
      expect(await toolNames(session.mcp)).toEqual(expect.arrayContaining(['faulty__ok', 'demo__echo']));
    } finally {
      await session.end();
    }
    expect(faulty.sessions()).toBe(0);
  });

  it('is re-initialized once per call, not in a loop: an upstream that loses every session gets a clear error', async () => {
    const session = await openSession();
    try {
      // The first request opens the upstream session; the next one finds it gone.
      expect(JSON.stringify((await session.mcp.callTool({ name: 'faulty__ok', arguments: { text: 'first' } })).content)).toContain('ok:first');
      const initializes = faulty.initializes();
      const { error } = await failure(session.mcp.callTool({ name: 'faulty__gone', arguments: {} }, undefined, { timeout: 20_000 }));
      expect({ code: error.code, message: error.message, data: error.data }).toEqual({
        code: UPSTREAM_FAILED,
        message: `MCP error ${UPSTREAM_FAILED}: upstream "faulty" answered with HTTP status 404`,
        data: { upstream: 'faulty' },
      });
      expect(faulty.initializes()).toBe(initializes + 1);
      // The next call finds the session gone again, opens one more, and succeeds.
      expect(JSON.stringify((await session.mcp.callTool({ name: 'faulty__ok', arguments: { text: 'back' } })).content)).toContain('ok:back');
      expect(faulty.initializes()).toBe(initializes + 2);
    } finally {
      await session.end();
    }
  });
});

describe('ending the downstream session', () => {
  it('closes its upstream sessions and stops its stdio child', async () => {
    const [slowBefore, faultyBefore] = [slow.sessions(), faulty.sessions()];
    const session = await openSession();
    // Upstream sessions open on first use: a listing uses every upstream.
    await toolNames(session.mcp);
    const pid = await childPid(session.mcp);
    expect(slow.sessions()).toBe(slowBefore + 1);
    expect(faulty.sessions()).toBe(faultyBefore + 1);
    // A hung call holds an upstream request open; ending the session must release it too.
    await failure(session.mcp.callTool({ name: 'slow__hang', arguments: {} }, undefined, { timeout: 20_000 }));

    await session.end();
    await eventually('the slow upstream session is closed', () => slow.sessions() === slowBefore);
    await eventually('the faulty upstream session is closed', () => faulty.sessions() === faultyBefore);
    await eventually(`the stdio child ${pid} exits`, () => !isAlive(pid));
    await eventually('no request to the faulty upstream is left open', () => faulty.openRequests() === 0);
  });

  it('closing the gateway ends every session it still holds, upstream sessions and children included', async () => {
    const own = await startTestGateway({ rateLimits: { register: { perIp: { perMinute: 1000 } } }, tenants: [{ id: 'default', upstreams }] });
    let closed = false;
    try {
      const ownToken = (await obtainTokens(own, await registerClient(own))).access_token;
      const [slowBefore, faultyBefore] = [slow.sessions(), faulty.sessions()];
      const session = await openSession(own, ownToken);
      const pid = await childPid(session.mcp);
      expect(slow.sessions()).toBe(slowBefore + 1);
      await own.close();
      closed = true;
      await eventually('the slow upstream session is closed', () => slow.sessions() === slowBefore);
      await eventually('the faulty upstream session is closed', () => faulty.sessions() === faultyBefore);
      await eventually(`the stdio child ${pid} exits`, () => !isAlive(pid));
      await session.mcp.close();
    } finally {
      if (!closed) await own.close();
    }
  });
});
