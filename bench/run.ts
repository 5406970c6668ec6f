import { loadavg } from 'node:os';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { Redis } from 'ioredis';
import { generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { pino } from 'pino';
import { randomToken, secretsEqual } from '../oauth/crypto.js';
import { createGateway } from '../src/app.js';
import { settleUrls } from '../src/config/settle.js';
import { NO_UPSTREAM } from '../src/mcp/endpoint.js';
import { MemoryStore } from '../src/store/memory.js';
import { HttpClient, measure, type HttpResponse, type MeasureOptions, type Measurement } from './load.js';
import { describeMachine, redisAdmin, removeBenchKeys } from './machine.js';
import { benchConfig, freshTargetOptions, launchTarget, tokenRequest, type Target, type TargetKind, type TargetOptions } from './targets.js';

// Token issuance and bearer verification through the gateway's HTTP endpoints (memory and Redis stores), next to
// the same JOSE work done by jose alone. Command, figures and a reading of them: bench/RESULTS.md.
//
//   npm run bench
//   BENCH_SECONDS=5 BENCH_WARMUP_SECONDS=1 BENCH_CONCURRENCY=32 REDIS_URL=redis://127.0.0.1:6379 npm run bench
//   BENCH_IN_PROCESS=1 npm run bench   # server and load generator share one process (default: a child process)

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 1);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const inProcess = process.env.BENCH_IN_PROCESS === '1';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TOKEN_POOL = 64;

const options: TargetOptions = freshTargetOptions(redisUrl);
const ownCpu = async () => process.cpuUsage();
const window = (inFlight: number, cpuUsage: () => Promise<NodeJS.CpuUsage>): MeasureOptions => ({
  concurrency: inFlight,
  warmupMs: warmupSeconds * 1000,
  durationMs: seconds * 1000,
  cpuUsage,
});

interface Row {
  figure: string;
  where: string;
  inFlight: number;
  result: Measurement;
}
const rows: Row[] = [];

let highestLoad = 0;
function record(figure: string, where: string, inFlight: number, result: Measurement): void {
  rows.push({ figure, where, inFlight, result });
  highestLoad = Math.max(highestLoad, loadavg()[0]!);
  const failed = result.failures > 0 ? `, ${result.failures} failed (first: ${result.firstFailure})` : '';
  const cpu = result.cpuMicrosPerOp === undefined ? '' : `, ${result.cpuMicrosPerOp.toFixed(0)} µs CPU/op`;
  console.error(`  ${figure} [${where}, ${inFlight} in flight] ${result.perSecond.toFixed(0)}/s p50 ${result.p50Ms.toFixed(2)} ms p99 ${result.p99Ms.toFixed(2)} ms${cpu}${failed}`);
}

// ---- requests, the same for every target ------------------------------------------------------------------

const { headers: tokenHeaders, body: tokenBody } = tokenRequest(options);
const mcpHeaders = (token: string) => ({
  Authorization: `Bearer ${token}`,
  'Content-Type': 'application/json',
  Accept: 'application/json, text/event-stream',
  'MCP-Protocol-Version': '2025-06-18',
});
const mcpBody = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });

function tokenFailure(response: HttpResponse): string | undefined {
  return response.status === 200 && response.body.includes('"access_token"') ? undefined : `${response.status} ${response.body.slice(0, 200)}`;
}
// Until the proxy lands, a verified token on /mcp gets the JSON-RPC error "no upstream": that answer proves the
// bearer check passed.
const noUpstream = `"code":${NO_UPSTREAM}`;
function mcpFailure(response: HttpResponse): string | undefined {
  return response.status === 200 && response.body.includes(noUpstream) ? undefined : `${response.status} ${response.body.slice(0, 200)}`;
}

async function tokenPool(issue: () => Promise<HttpResponse>): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < TOKEN_POOL; i++) {
    const response = await issue();
    const failure = tokenFailure(response);
    if (failure !== undefined) throw new Error(`could not get a token: ${failure}`);
    tokens.push((JSON.parse(response.body) as { access_token: string }).access_token);
  }
  return tokens;
}

// ---- targets ----------------------------------------------------------------------------------------------

/** Starts a target in a child process (its own event loop), or in this process with BENCH_IN_PROCESS=1. */
function launch(kind: TargetKind): Promise<Target> {
  return launchTarget(kind, options, { inProcess });
}

const FLOORS = {
  floor: 'body by c.req.text()',
  'floor-stream': "body by the gateway's readBody (a web stream)",
  'floor-stream-cors': "readBody + the gateway's /mcp CORS middleware",
} as const;

async function benchFloor(kind: keyof typeof FLOORS): Promise<void> {
  const target = await launch(kind);
  const http = new HttpClient(target.url, concurrency);
  try {
    const where = `Hono + @hono/node-server, constant answer; ${FLOORS[kind]}`;
    record('HTTP floor: the /mcp request, no token work', where, concurrency, await measure(async () => {
      const response = await http.post('/mcp', mcpHeaders('x'), mcpBody);
      return response.status === 200 ? undefined : `${response.status}`;
    }, window(concurrency, target.cpuUsage)));
  } finally {
    http.close();
    await target.close();
  }
}

async function benchGateway(kind: 'memory' | 'redis'): Promise<void> {
  const target = await launch(kind);
  const http = new HttpClient(target.url, concurrency);
  const where = `gateway over HTTP, ${kind} store`;
  const cpu = target.cpuUsage;
  try {
    const issue = () => http.post('/token', tokenHeaders, tokenBody(target.url));
    record('client_credentials issuance (POST /token)', where, concurrency, await measure(async () => tokenFailure(await issue()), window(concurrency, cpu)));
    const tokens = await tokenPool(issue);
    let next = 0;
    record('bearer verification (POST /mcp)', where, concurrency, await measure(async () => {
      return mcpFailure(await http.post('/mcp', mcpHeaders(tokens[next++ % tokens.length]!), mcpBody));
    }, window(concurrency, target.cpuUsage)));
  } finally {
    http.close();
    await target.close();
  }
}

/** The gateway's Hono app called directly (no socket, no Node HTTP adapter), memory store. */
async function benchAppFetch(): Promise<void> {
  const origin = 'http://127.0.0.1:8787';
  const config = settleUrls({ ...benchConfig('memory', options), publicUrl: origin }, 'bench');
  const store = new MemoryStore();
  const { app } = await createGateway(config, { store, logger: pino({ level: 'silent' }), jsonSchemaValidator: new AjvJsonSchemaValidator() });
  const call = async (path: string, headers: Record<string, string>, body: string): Promise<HttpResponse> => {
    const response = await app.fetch(new Request(origin + path, { method: 'POST', headers, body }));
    return { status: response.status, body: await response.text() };
  };
  const where = 'gateway app.fetch in-process, memory store';
  const cpu = ownCpu;
  try {
    const issue = () => call('/token', tokenHeaders, tokenBody(origin));
    record('client_credentials issuance (POST /token)', where, concurrency, await measure(async () => tokenFailure(await issue()), window(concurrency, cpu)));
    const tokens = await tokenPool(issue);
    let next = 0;
    record('bearer verification (POST /mcp)', where, concurrency, await measure(async () => {
      return mcpFailure(await call('/mcp', mcpHeaders(tokens[next++ % tokens.length]!), mcpBody));
    }, window(concurrency, cpu)));
  } finally {
    await store.close();
  }
}

/** The cryptographic core of the same work, by jose alone: an equivalent at+jwt signed and verified with ES256. */
async function benchJose(): Promise<void> {
  const issuer = 'http://127.0.0.1:8787';
  const audience = `${issuer}/mcp`;
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const claims = () => {
    const iat = Math.floor(Date.now() / 1000);
    return { iss: issuer, sub: options.clientId, aud: audience, client_id: options.clientId, scope: 'mcp', tenant: 'default', iat, exp: iat + 900, jti: randomToken(16) };
  };
  const sign = () => new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'bench' }).sign(privateKey);
  const token = await sign();
  const verify = () =>
    jwtVerify(token, publicKey, {
      algorithms: ['ES256'],
      typ: 'at+jwt',
      issuer,
      audience,
      requiredClaims: ['sub', 'aud', 'client_id', 'scope', 'tenant', 'iat', 'exp', 'jti'],
      clockTolerance: 5,
    });
  for (const inFlight of [1, concurrency]) {
    record('SignJWT ES256 (issuance core)', 'jose alone, in-process', inFlight, await measure(async () => ((await sign()).length > 0 ? undefined : 'empty'), window(inFlight, ownCpu)));
  }
  for (const inFlight of [1, concurrency]) {
    record('jwtVerify ES256 (verification core)', 'jose alone, in-process', inFlight, await measure(async () => ((await verify()).payload.jti ? undefined : 'no jti'), window(inFlight, ownCpu)));
  }
  // The token endpoint's client check compares SHA-256 digests of the presented and the configured secret.
  const secret = options.clientSecret;
  record('client secret check (secretsEqual: 2× SHA-256, WebCrypto)', 'gateway function, in-process', concurrency, await measure(async () => ((await secretsEqual(secret, secret)) ? undefined : 'mismatch'), window(concurrency, ownCpu)));
}

// ---- run ---------------------------------------------------------------------------------------------------

async function hardware(redis: Redis): Promise<string[]> {
  return [
    ...(await describeMachine(redis, ['jose', 'hono', '@hono/node-server', 'ioredis'])),
    `settings: ${concurrency} in flight, ${warmupSeconds} s warm-up + ${seconds} s measured per figure, ` +
      `server ${inProcess ? 'in the load generator process' : 'in a child process'}, keep-alive HTTP/1.1 over loopback`,
  ];
}

function table(): string[] {
  const lines = ['| Figure | Where | In flight | Ops/s | p50 ms | p99 ms | CPU µs/op | Failed |', '|---|---|---:|---:|---:|---:|---:|---:|'];
  for (const { figure, where, inFlight, result } of rows) {
    const cpu = result.cpuMicrosPerOp === undefined ? '' : result.cpuMicrosPerOp.toFixed(0);
    lines.push(`| ${figure} | ${where} | ${inFlight} | ${Math.round(result.perSecond)} | ${result.p50Ms.toFixed(2)} | ${result.p99Ms.toFixed(2)} | ${cpu} | ${result.failures} |`);
  }
  return lines;
}

const loadAtStart = loadavg()[0]!.toFixed(2);
const redis = await redisAdmin(redisUrl);
try {
  const header = await hardware(redis);
  console.error(header.join('\n'));
  for (const kind of ['floor', 'floor-stream', 'floor-stream-cors'] as const) await benchFloor(kind);
  await benchGateway('memory');
  await benchGateway('redis');
  await benchAppFetch();
  await benchJose();
  header.push(`load average (1 min): ${loadAtStart} at the start, at most ${highestLoad.toFixed(2)} after a figure, ${loadavg()[0]!.toFixed(2)} at the end`);
  console.log([...header.map((line) => `- ${line}`), '', ...table()].join('\n'));
  if (rows.some((row) => row.result.failures > 0 || row.result.completed === 0)) process.exitCode = 1;
} finally {
  const removed = await removeBenchKeys(redis, options.redisKeyPrefix);
  console.error(`removed ${removed} Redis keys under ${options.redisKeyPrefix}`);
  await redis.quit();
}
