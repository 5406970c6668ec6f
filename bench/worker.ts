import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { callLoad, knob, measure, measureRate, median, num, type CpuProbe, type Measurement } from './load.js';
import { childPids, describeMachine, freePort, processCpu } from './machine.js';
import { closeSessions, EchoCalls, gatewayToken, openSessions } from './mcp-client.js';
import { freshTargetOptions, launchTarget, startHttpUpstream, stopChild, type BenchUpstream } from './targets.js';

// The gateway on Cloudflare Workers' runtime beside the gateway on Node, on this machine: the Worker bundle's size,
// workerd's start-up with it, and tools/call of `echo` through each, over the same Streamable HTTP upstream (the demo
// server in a process of its own). Command, figures and a reading of them: bench/RESULTS.md, "Workers".
//
//   npm run bench:worker
//   BENCH_SECONDS=5 BENCH_RATE_SECONDS=10 BENCH_WARMUP_SECONDS=1 BENCH_CONCURRENCY=32 BENCH_SESSIONS=4 BENCH_RATE=50 \
//     BENCH_TEXT_BYTES=100 BENCH_STARTUP_ROUNDS=10 BENCH_OPENED_SESSIONS=20 npm run bench:worker
//
// Workers run under workerd through Miniflare (bench/workerd.ts, on the Node 22 of the npm package node@22), each
// Durable Object in the same workerd process, on loopback: the figures are the runtime's cost on this machine,
// without Cloudflare's network, placement or limits.

const { seconds, rateSeconds, warmupSeconds, concurrency, sessionCount, rate, textBytes } = callLoad();
const startupRounds = knob('STARTUP_ROUNDS', 10);
// New sessions opened one after another to time `initialize` (on Workers, each starts a Durable Object's gateway).
const openedSessions = knob('OPENED_SESSIONS', 20);
const MAX_IN_FLIGHT = 512;

// Compiled to bench/.build/bench/, three levels below the package root.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const NODE22 = join(ROOT, 'node_modules/node/bin/node');
const WRANGLER = join(ROOT, 'node_modules/wrangler/bin/wrangler.js');
const workerdScript = fileURLToPath(new URL('./workerd.js', import.meta.url));

// Workers' limits (developers.cloudflare.com/workers/platform/limits): compressed size, and start-up time.
const FREE_GZIP_LIMIT = 3 * 2 ** 20;
const PAID_GZIP_LIMIT = 10 * 2 ** 20;
const STARTUP_LIMIT_MS = 1000;

/** Builds the Worker as `wrangler deploy` would (`--dry-run`) and returns the bundle's path and sizes. */
async function buildBundle(dir: string): Promise<{ path: string; rawBytes: number; gzipBytes: number }> {
  const build = spawn(NODE22, [WRANGLER, 'deploy', '--dry-run', '--outdir', dir], { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' }, stdio: ['ignore', 'ignore', 'inherit'] });
  const [code] = (await once(build, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`wrangler deploy --dry-run exited with ${code}`);
  const path = join(dir, 'worker.js');
  const script = await readFile(path);
  return { path, rawBytes: script.byteLength, gzipBytes: gzipSync(script).byteLength };
}

interface StartTimes {
  readyMs: number;
  firstMs: number;
  secondMs: number;
}

/** workerd's start-up with the gateway and with an empty Worker, `startupRounds` times each (bench/workerd.ts). */
async function startupTimes(bundle: string): Promise<{ gateway: StartTimes[]; empty: StartTimes[] }> {
  const child = spawn(NODE22, [workerdScript, 'startup', bundle, String(startupRounds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`workerd.js startup exited with ${code}`);
  return JSON.parse(output) as { gateway: StartTimes[]; empty: StartTimes[] };
}

/** A gateway to measure: where clients connect, and the CPU time of the processes doing its work. */
interface Gateway {
  url: string;
  cpu: CpuProbe;
  close(): Promise<void>;
}

const options = freshTargetOptions('redis://unused');

async function nodeGateway(upstream: BenchUpstream): Promise<Gateway> {
  const target = await launchTarget('memory', { ...options, upstream });
  return { url: target.url, cpu: target.cpuUsage, close: () => target.close() };
}

/** The Worker under workerd (Miniflare), with the benchmark's tenant and service client; CPU is workerd's. */
async function workerGateway(bundle: string, upstream: BenchUpstream): Promise<Gateway> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = {
    publicUrl: url,
    store: { type: 'durable-objects' },
    tenants: [{ id: 'default', name: 'Bench tenant', upstreams: [upstream] }],
    clients: [{ clientId: options.clientId, clientSecret: options.clientSecret, tenant: 'default' }],
    logLevel: 'error',
  };
  const child: ChildProcess = fork(workerdScript, ['serve', bundle, String(port)], {
    execPath: NODE22,
    env: { ...process.env, BENCH_WORKER_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`workerd.js serve exited with ${code} before it was ready`)));
  });
  const workerd = await childPids(child.pid!);
  return { url, cpu: () => processCpu(workerd), close: () => stopChild(child, () => child.send('close')) };
}

interface Row {
  name: string;
  initializeMs: number;
  saturation: Measurement;
  fixedRate: Measurement;
}

const echo = new EchoCalls(textBytes);

async function benchGateway(name: string, gateway: Gateway): Promise<Row> {
  console.error(`  ${name}`);
  const token = await gatewayToken(gateway.url, options);
  const transport = () => new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  // initialize, one session at a time, each closed again: what a new MCP session costs.
  const opened: number[] = [];
  for (let i = 0; i < openedSessions; i++) {
    const began = performance.now();
    const clients: Client[] = [];
    await openSessions(1, transport, clients);
    opened.push(performance.now() - began);
    await closeSessions(clients);
  }
  const clients: Client[] = [];
  try {
    await openSessions(sessionCount, transport, clients);
    await Promise.all(clients.map((client) => echo.call(client)));
    let next = 0;
    const operation = () => echo.call(clients[next++ % clients.length]!);
    const cpu = { cpuUsage: gateway.cpu, warmupMs: warmupSeconds * 1000 };
    const saturation = await measure(operation, { ...cpu, durationMs: seconds * 1000, concurrency });
    const fixedRate = await measureRate(operation, { ...cpu, durationMs: rateSeconds * 1000, ratePerSecond: rate, maxInFlight: MAX_IN_FLIGHT });
    const row = { name, initializeMs: median(opened), saturation, fixedRate };
    console.error(`    initialize p50 ${row.initializeMs.toFixed(1)} ms; ${saturation.perSecond.toFixed(0)} calls/s, ${num(saturation.cpuMicrosPerOp)} µs CPU/call; at ${rate}/s p50 ${fixedRate.p50Ms.toFixed(2)} ms p99 ${fixedRate.p99Ms.toFixed(2)} ms`);
    return row;
  } finally {
    await closeSessions(clients);
  }
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-worker-'));
  const upstream = await startHttpUpstream();
  try {
    console.error('building the Worker (wrangler deploy --dry-run)');
    const bundle = await buildBundle(dir);
    console.error(`workerd start-up, ${startupRounds} rounds`);
    const starts = await startupTimes(bundle.path);
    const upstreamConfig: BenchUpstream = { id: 'demo', prefix: '', transport: 'streamable-http', url: upstream.url };
    const rows: Row[] = [];
    for (const [name, start] of [
      ['Node (memory store)', () => nodeGateway(upstreamConfig)],
      ['workerd (Durable Objects)', () => workerGateway(bundle.path, upstreamConfig)],
    ] as const) {
      const gateway = await start();
      try {
        rows.push(await benchGateway(name, gateway));
      } finally {
        await gateway.close();
      }
    }

    const pick = (list: StartTimes[], field: keyof StartTimes) => median(list.map((entry) => entry[field]));
    const lines = [
      ...(await describeMachine(undefined, ['wrangler', 'miniflare', '@cloudflare/workerd-linux-64'])).map((line) => `- ${line}`),
      '',
      '| Bundle | Raw | gzip | Free plan limit (gzip) | Paid plan limit (gzip) |',
      '|---|---:|---:|---:|---:|',
      `| worker.js (minified, wrangler deploy --dry-run) | ${kib(bundle.rawBytes)} | ${kib(bundle.gzipBytes)} | ${kib(FREE_GZIP_LIMIT)} (${((100 * bundle.gzipBytes) / FREE_GZIP_LIMIT).toFixed(0)} %) | ${kib(PAID_GZIP_LIMIT)} |`,
      '',
      `Start-up under workerd, medians of ${startupRounds} rounds (Workers allow ${STARTUP_LIMIT_MS} ms for a script's start-up):`,
      '',
      '| Worker | workerd ready ms | First request ms | Second request ms |',
      '|---|---:|---:|---:|',
      `| empty (\`return new Response("ok")\`) | ${num(pick(starts.empty, 'readyMs'))} | ${num(pick(starts.empty, 'firstMs'), 1)} | ${num(pick(starts.empty, 'secondMs'), 1)} |`,
      `| Portcullis | ${num(pick(starts.gateway, 'readyMs'))} | ${num(pick(starts.gateway, 'firstMs'), 1)} | ${num(pick(starts.gateway, 'secondMs'), 1)} |`,
      '',
      `tools/call \`echo\` (${textBytes} bytes) over the Streamable HTTP demo upstream; saturation: ${concurrency} in flight over ${sessionCount} sessions; fixed rate: ${rate} calls/s.`,
      '',
      '| Gateway | initialize p50 ms | Calls/s | CPU µs/call | p50 ms | p99 ms | at rate p50 ms | at rate p99 ms | Failed |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...rows.map(
        (row) =>
          `| ${row.name} | ${num(row.initializeMs, 1)} | ${num(row.saturation.perSecond)} | ${num(row.saturation.cpuMicrosPerOp)} | ${num(row.saturation.p50Ms, 2)} | ${num(row.saturation.p99Ms, 2)} | ${num(row.fixedRate.p50Ms, 2)} | ${num(row.fixedRate.p99Ms, 2)} | ${row.saturation.failures + row.fixedRate.failures} |`,
      ),
    ];
    console.log(lines.join('\n'));
  } finally {
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
