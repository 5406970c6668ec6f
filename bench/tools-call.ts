import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect as tcpConnect } from 'node:net';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Redis } from 'ioredis';
import { callLoad, measure, measureRate, median, num, type CpuProbe, type Measurement } from './load.js';
import { childPids, describeMachine, freePort, processCpu, redisAdmin, redisCommandCount, removeBenchKeys, residentMiB } from './machine.js';
import { closeSessions, EchoCalls, gatewayToken, openSessions } from './mcp-client.js';
import { freshTargetOptions, launchTarget, startHttpUpstream, stopChild, type BenchUpstream, type TargetOptions } from './targets.js';

// tools/call `echo` from one MCP SDK client, over the same upstream (the demo server, over stdio and over Streamable
// HTTP): direct, through the gateway (memory store and Redis), and through mcp-proxy. Command, figures and a reading
// of them: bench/RESULTS.md, "tools/call".
//
//   npm run bench:tools
//   BENCH_SECONDS=5 BENCH_RATE_SECONDS=10 BENCH_WARMUP_SECONDS=1 BENCH_CONCURRENCY=32 BENCH_SESSIONS=4 BENCH_RATE=50 \
//     BENCH_TEXT_BYTES=100 REDIS_URL=redis://127.0.0.1:6379 npm run bench:tools
//   BENCH_ROUNDS=3 npm run bench:tools   # every variant three times, interleaved; the tables show medians
//   BENCH_ONLY='stdio gateway-memory' BENCH_CPU_PROF_DIR=/tmp/prof npm run bench:tools   # one variant, gateway profiled

const { seconds, rateSeconds, warmupSeconds, concurrency, sessionCount, rate, textBytes } = callLoad();
// On a machine shared with other work one pass can land in a busy minute; rounds interleave the variants.
const rounds = Number(process.env.BENCH_ROUNDS ?? 1);
const only = process.env.BENCH_ONLY;
const profileDir = process.env.BENCH_CPU_PROF_DIR;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// Past this many calls in flight the open loop counts a due call as failed rather than queue without bound.
const MAX_IN_FLIGHT = 512;

const upstreamScript = fileURLToPath(new URL('./upstream.js', import.meta.url));
// Compiled to bench/.build/bench/, three levels below the package root.
const mcpProxyBin = fileURLToPath(new URL('../../../node_modules/mcp-proxy/dist/bin/mcp-proxy.mjs', import.meta.url));

const options: TargetOptions = freshTargetOptions(redisUrl);

const UPSTREAMS = ['stdio', 'http'] as const;
type UpstreamKind = (typeof UPSTREAMS)[number];
const PATHS = ['direct', 'gateway-memory', 'gateway-redis', 'mcp-proxy'] as const;
type PathKind = (typeof PATHS)[number];

const PATH_NAMES: Record<PathKind, string> = {
  direct: 'direct',
  'gateway-memory': 'Portcullis, memory store',
  'gateway-redis': 'Portcullis, Redis store',
  'mcp-proxy': 'mcp-proxy',
};

/** What one variant's client connects to, and the processes whose CPU is read. */
interface Variant {
  /** A transport for one more client session. */
  transport(): Transport;
  /** The gateway or mcp-proxy between client and upstream, if any. */
  middle?: { pid: number; cpu: CpuProbe };
  /** The upstream processes, once the sessions are open (a stdio upstream runs one per session, except behind mcp-proxy). */
  upstreamPids(transports: readonly Transport[]): Promise<number[]>;
  close(): Promise<void>;
}

/** The figures of one variant in one round. */
interface Row {
  upstream: UpstreamKind;
  path: PathKind;
  saturation: Measurement;
  fixedRate: Measurement;
  /** How many upstream processes served the calls (stdio: one per session, except behind mcp-proxy). */
  upstreamProcesses: number;
  /** Resident memory of the gateway or mcp-proxy after both figures, in MiB. */
  middleMiB?: number;
  /** Redis commands per call during both figures (gateway on Redis only). */
  redisCommandsPerCall?: number;
}
const rows: Row[] = [];
const skipped: string[] = [];
let failedSetups = 0;
let highestLoad = 0;

// ---- processes ----------------------------------------------------------------------------------------------

/** mcp-proxy as its users run it (its CLI, default options but a loopback bind), spawning the stdio upstream itself. */
async function startMcpProxy(): Promise<{ url: string; pid: number; close(): Promise<void> }> {
  const port = await freePort();
  const args = [mcpProxyBin, '--host', '127.0.0.1', '--port', String(port), '--server', 'stream', '--', process.execPath, upstreamScript, 'stdio'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`mcp-proxy exited with code ${code} before listening`);
  });
  exited.catch(() => {});
  try {
    await Promise.race([listening(port), exited]);
  } catch (error) {
    child.kill('SIGTERM');
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    pid: child.pid!,
    async close() {
      const upstreams = await childPids(child.pid!);
      await stopChild(child, () => child.kill('SIGTERM'));
      // mcp-proxy stops its upstream on a graceful shutdown; one left behind after a forced one is stopped here.
      for (const pid of upstreams) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    },
  };
}

async function listening(port: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const connected = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (connected) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on port ${port} after 10 s`);
}

const stdioCommand = { command: process.execPath, args: [upstreamScript, 'stdio'] };

async function startVariant(upstreamKind: UpstreamKind, path: PathKind): Promise<Variant> {
  const httpUpstream = upstreamKind === 'http' ? await startHttpUpstream() : undefined;
  const closeUpstream = async () => httpUpstream?.close();
  try {
    if (path === 'direct') {
      if (httpUpstream) return { transport: () => new StreamableHTTPClientTransport(new URL(httpUpstream.url)), upstreamPids: async () => [httpUpstream.pid], close: closeUpstream };
      return {
        transport: () => new StdioClientTransport({ ...stdioCommand, stderr: 'inherit' }),
        upstreamPids: async (transports) => transports.flatMap((transport) => (transport as StdioClientTransport).pid ?? []),
        close: async () => {},
      };
    }
    if (path === 'mcp-proxy') {
      if (httpUpstream) throw new Error('mcp-proxy fronts only a stdio server it spawns');
      const proxy = await startMcpProxy();
      return {
        transport: () => new StreamableHTTPClientTransport(new URL(proxy.url)),
        middle: { pid: proxy.pid, cpu: () => processCpu([proxy.pid]) },
        upstreamPids: () => childPids(proxy.pid),
        close: () => proxy.close(),
      };
    }
    const upstream: BenchUpstream = httpUpstream
      ? { id: 'demo', prefix: '', transport: 'streamable-http', url: httpUpstream.url }
      : { id: 'demo', prefix: '', transport: 'stdio', ...stdioCommand, maxProcesses: Math.max(16, sessionCount) };
    const store = path === 'gateway-redis' ? 'redis' : 'memory';
    const execArgv = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
    const gateway = await launchTarget(store, { ...options, upstream }, { execArgv });
    try {
      const token = await gatewayToken(gateway.url, options);
      return {
        transport: () => new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }),
        middle: { pid: gateway.pid, cpu: gateway.cpuUsage },
        upstreamPids: async () => (httpUpstream ? [httpUpstream.pid] : childPids(gateway.pid)),
        close: async () => {
          await gateway.close();
          await closeUpstream();
        },
      };
    } catch (error) {
      await gateway.close();
      throw error;
    }
  } catch (error) {
    await closeUpstream();
    throw error;
  }
}

// ---- the client -------------------------------------------------------------------------------------------

const echo = new EchoCalls(textBytes);

// ---- run --------------------------------------------------------------------------------------------------

function describe(figure: string, result: Measurement): string {
  const cpu = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(0));
  const failed = result.failures > 0 ? `, ${result.failures} failed (first: ${result.firstFailure})` : '';
  return (
    `    ${figure}: ${result.perSecond.toFixed(0)}/s p50 ${result.p50Ms.toFixed(2)} ms p99 ${result.p99Ms.toFixed(2)} ms; CPU µs/call ` +
    `gateway/proxy ${cpu(result.cpuMicrosPerOp)} upstream ${cpu(result.otherCpuMicrosPerOp?.upstream)} client ${cpu(result.otherCpuMicrosPerOp?.client)}${failed}`
  );
}

async function benchVariant(upstreamKind: UpstreamKind, path: PathKind, redis: Redis): Promise<void> {
  console.error(`  ${upstreamKind} upstream, ${PATH_NAMES[path]}`);
  const variant = await startVariant(upstreamKind, path);
  const clients: Client[] = [];
  try {
    await openSessions(sessionCount, () => variant.transport(), clients);
    // One call per session first: the gateway opens a session's upstream session (a stdio process) on first use.
    await Promise.all(clients.map((client) => echo.call(client)));
    const upstreamPids = await variant.upstreamPids(clients.flatMap((client) => client.transport ?? []));
    if (upstreamPids.length === 0) throw new Error('found no upstream process');
    const cpu = {
      ...(variant.middle && { cpuUsage: variant.middle.cpu }),
      otherCpu: { upstream: () => processCpu(upstreamPids), client: async () => process.cpuUsage() },
      warmupMs: warmupSeconds * 1000,
    };
    let next = 0;
    const operation = () => echo.call(clients[next++ % clients.length]!);

    const callsBefore = echo.count;
    const commandsBefore = path === 'gateway-redis' ? await redisCommandCount(redis) : 0;
    const saturation = await measure(operation, { ...cpu, durationMs: seconds * 1000, concurrency });
    console.error(describe(`${concurrency} in flight`, saturation));
    highestLoad = Math.max(highestLoad, loadavg()[0]!);
    const fixedRate = await measureRate(operation, { ...cpu, durationMs: rateSeconds * 1000, ratePerSecond: rate, maxInFlight: MAX_IN_FLIGHT });
    console.error(describe(`${rate} calls/s`, fixedRate));
    highestLoad = Math.max(highestLoad, loadavg()[0]!);

    const row: Row = { upstream: upstreamKind, path, saturation, fixedRate, upstreamProcesses: upstreamPids.length };
    if (path === 'gateway-redis') row.redisCommandsPerCall = ((await redisCommandCount(redis)) - commandsBefore) / (echo.count - callsBefore);
    const middleMiB = variant.middle && (await residentMiB(variant.middle.pid));
    if (middleMiB !== undefined) row.middleMiB = middleMiB;
    if (row.redisCommandsPerCall !== undefined) console.error(`    Redis commands per call: ${row.redisCommandsPerCall.toFixed(2)}`);
    if (row.middleMiB !== undefined) console.error(`    resident memory of the ${path === 'mcp-proxy' ? 'proxy' : 'gateway'}: ${row.middleMiB.toFixed(0)} MiB`);
    rows.push(row);
  } finally {
    await closeSessions(clients);
    await variant.close();
  }
}

/** The rounds of one variant as one row: the median of every figure, failures added up. */
interface Summary {
  upstream: UpstreamKind;
  path: PathKind;
  rounds: readonly Row[];
  figure(pick: (row: Row) => number | undefined): number;
  failures(which: 'saturation' | 'fixedRate'): number;
}

function summaries(): Summary[] {
  const keys = [...new Set(rows.map((row) => `${row.upstream} ${row.path}`))];
  return keys.map((key) => {
    const rounds = rows.filter((row) => `${row.upstream} ${row.path}` === key);
    return {
      upstream: rounds[0]!.upstream,
      path: rounds[0]!.path,
      rounds,
      figure: (pick) => median(rounds.map((row) => pick(row) ?? Number.NaN)),
      failures: (which) => rounds.reduce((sum, row) => sum + row[which].failures, 0),
    };
  });
}

function tables(): string[] {
  const all = summaries();
  const direct = (upstream: UpstreamKind) => all.find((row) => row.upstream === upstream && row.path === 'direct');
  const cpuCells = (row: Summary, which: 'saturation' | 'fixedRate') => [
    num(row.figure((r) => r[which].cpuMicrosPerOp)),
    num(row.figure((r) => r[which].otherCpuMicrosPerOp?.upstream)),
    num(row.figure((r) => r[which].otherCpuMicrosPerOp?.client)),
  ];
  const perRound = rounds > 1 ? ' Calls/s per round |' : '';
  const perRoundRule = rounds > 1 ? '---:|' : '';
  const ofRounds = rounds > 1 ? ` Medians of ${rounds} rounds.` : '';
  const saturation = [
    `Saturation: closed loop, ${concurrency} calls in flight over ${sessionCount} sessions.${ofRounds}`,
    '',
    `| Upstream | Path | Calls/s |${perRound} × direct | p50 ms | p99 ms | Gateway/proxy CPU µs/call | Upstream CPU µs/call | Client CPU µs/call | Upstream processes | Gateway/proxy RSS MiB | Failed |`,
    `|---|---|---:|${perRoundRule}---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
  ];
  const fixed = [
    `Fixed rate: open loop, ${rate} calls/s over ${sessionCount} sessions, latency from when each call was due.${ofRounds}`,
    '',
    '| Upstream | Path | Calls/s | p50 ms | p99 ms | p50 added ms | p99 added ms | Gateway/proxy CPU µs/call | Upstream CPU µs/call | Client CPU µs/call | Failed |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of all) {
    const base = row.path === 'direct' ? undefined : direct(row.upstream);
    const callsPerSecond = row.figure((r) => r.saturation.perSecond);
    const ratio = row.path === 'direct' ? '1' : base ? (callsPerSecond / base.figure((r) => r.saturation.perSecond)).toFixed(2) : '';
    const added = (pick: (r: Row) => number) => {
      if (!base) return '';
      const difference = row.figure(pick) - base.figure(pick);
      return `${difference >= 0 ? '+' : ''}${difference.toFixed(2)}`;
    };
    const where = [row.upstream === 'stdio' ? 'stdio' : 'Streamable HTTP', PATH_NAMES[row.path]];
    const perRoundCells = perRound === '' ? [] : [row.rounds.map((r) => Math.round(r.saturation.perSecond)).join(', ')];
    saturation.push(
      `| ${[...where, Math.round(callsPerSecond), ...perRoundCells, ratio, num(row.figure((r) => r.saturation.p50Ms), 2), num(row.figure((r) => r.saturation.p99Ms), 2), ...cpuCells(row, 'saturation'), row.rounds[0]!.upstreamProcesses, num(row.figure((r) => r.middleMiB)), row.failures('saturation')].join(' | ')} |`,
    );
    fixed.push(
      `| ${[...where, Math.round(row.figure((r) => r.fixedRate.perSecond)), num(row.figure((r) => r.fixedRate.p50Ms), 2), num(row.figure((r) => r.fixedRate.p99Ms), 2), added((r) => r.fixedRate.p50Ms), added((r) => r.fixedRate.p99Ms), ...cpuCells(row, 'fixedRate'), row.failures('fixedRate')].join(' | ')} |`,
    );
  }
  const notes = all.flatMap((row) => (row.path === 'gateway-redis' ? [`- Redis commands per call, ${row.upstream} upstream: ${num(row.figure((r) => r.redisCommandsPerCall), 2)}`] : []));
  return [...saturation, '', ...fixed, ...(notes.length > 0 ? ['', ...notes] : []), ...skipped.map((line) => `- ${line}`)];
}

const loadAtStart = loadavg()[0]!.toFixed(2);
const redis = await redisAdmin(redisUrl);
try {
  const header = [
    ...(await describeMachine(redis, ['@modelcontextprotocol/sdk', 'mcp-proxy', 'hono', '@hono/node-server', 'ioredis', 'jose'])),
    `settings: ${concurrency} in flight (saturation, ${warmupSeconds} s warm-up + ${seconds} s measured) and ${rate} calls/s ` +
      `(fixed rate, ${warmupSeconds} s + ${rateSeconds} s), over ${sessionCount} client sessions; echo text of ${textBytes} bytes; ` +
      `${rounds} round${rounds === 1 ? '' : 's'}; ` +
      'gateway, mcp-proxy and HTTP upstream each in a child process, the load generator in the parent',
  ];
  console.error(header.join('\n'));
  for (let round = 1; round <= rounds; round++) {
    if (rounds > 1) console.error(`round ${round} of ${rounds}`);
    for (const upstreamKind of UPSTREAMS) {
      for (const path of PATHS) {
        if (only !== undefined && !only.split(/\s+/).every((word) => `${upstreamKind} ${path}`.includes(word))) continue;
        if (upstreamKind === 'http' && path === 'mcp-proxy') continue;
        try {
          await benchVariant(upstreamKind, path, redis);
        } catch (error) {
          failedSetups++;
          console.error(`    failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
  }
  skipped.push('mcp-proxy over the Streamable HTTP upstream: left out, mcp-proxy fronts only a stdio server that it spawns itself');
  header.push(`load average (1 min): ${loadAtStart} at the start, at most ${highestLoad.toFixed(2)} after a figure, ${loadavg()[0]!.toFixed(2)} at the end`);
  console.log([...header.map((line) => `- ${line}`), '', ...tables()].join('\n'));
  const failedCalls = rows.some((row) => [row.saturation, row.fixedRate].some((result) => result.failures > 0 || result.completed === 0));
  if (failedSetups > 0 || failedCalls) process.exitCode = 1;
} finally {
  const removed = await removeBenchKeys(redis, options.redisKeyPrefix);
  console.error(`removed ${removed} Redis keys under ${options.redisKeyPrefix}`);
  await redis.quit();
}
