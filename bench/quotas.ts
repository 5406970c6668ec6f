import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { admitToolCall, type QuotaGateOptions } from '../src/gate/quota.js';
import { Metrics } from '../src/observe/metrics.js';
import { compileQuotas } from '../src/quota/compile.js';
import { quotasSchema } from '../src/quota/schema.js';
import { calendarWindow } from '../src/quota/windows.js';
import { MemoryStore } from '../src/store/memory.js';
import { RedisStore } from '../src/store/redis.js';
import type { Admission, Limit, Store } from '../src/store/store.js';
import { callLoad, measure, measureRate, median, num, signed, type Measurement } from './load.js';
import { childPids, describeMachine, processCpu, redisAdmin, redisCommandCount, redisServerPid, removeBenchKeys, residentMiB } from './machine.js';
import { closeSessions, EchoCalls, gatewayToken, openSessions } from './mcp-client.js';
import { freshTargetOptions, launchTarget, type BenchUpstream, type TargetOptions } from './targets.js';

// What quotas cost (issue 5). Part A: one limit check (`Store.admit`, and the whole gate `admitToolCall`) on the
// memory store and on Redis, one at a time and, on Redis, 64 in flight, over 1,000 agents' keys (and once on one
// agent that already holds 32 concurrency leases, like the gateway's one busy client). Part B: tools/call
// `echo` through the gateway (stdio demo upstream, memory and Redis store) with quotas off and on: three limits that
// never refuse (per-client rate, per-client-and-tool daily window, per-client concurrency). Every admission must be
// admitted, and the "on" gateways' own counters must have counted every call; otherwise the run exits non-zero.
// Command, figures and a reading of them: bench/RESULTS.md, "Quotas".
//
//   npm run bench:quotas
//   BENCH_ROUNDS=3 BENCH_CHECKS=20000 BENCH_MEMORY_CHECKS=200000 BENCH_AGENTS=1000 BENCH_CHECK_CONCURRENCY=64 BENCH_HELD_LEASES=32 \
//     BENCH_SECONDS=5 BENCH_RATE_SECONDS=10 BENCH_WARMUP_SECONDS=1 BENCH_CONCURRENCY=32 BENCH_SESSIONS=4 BENCH_RATE=50 \
//     BENCH_TEXT_BYTES=100 REDIS_URL=redis://127.0.0.1:6379 npm run bench:quotas
//   BENCH_ONLY=checks npm run bench:quotas   # Part A only (BENCH_ONLY=calls: Part B only)

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const redisChecks = Number(process.env.BENCH_CHECKS ?? 20_000);
const memoryChecks = Number(process.env.BENCH_MEMORY_CHECKS ?? 200_000);
const agents = Number(process.env.BENCH_AGENTS ?? 1000);
const checkConcurrency = Number(process.env.BENCH_CHECK_CONCURRENCY ?? 64);
// The hot-key case: one agent holding as many leases as the gateway benchmark has calls in flight.
const heldLeases = Number(process.env.BENCH_HELD_LEASES ?? process.env.BENCH_CONCURRENCY ?? 32);
const { seconds, rateSeconds, warmupSeconds, concurrency, sessionCount, rate, textBytes } = callLoad();
const only = process.env.BENCH_ONLY;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const options: TargetOptions = freshTargetOptions(redisUrl);
const logger = pino({ level: 'silent' });
/** What makes the run worthless: a refused admission, a counter that missed calls. Any of them fails the run. */
const problems: string[] = [];
let highestLoad = 0;
const noteLoad = () => (highestLoad = Math.max(highestLoad, loadavg()[0]!));

type QuotasInput = NonNullable<TargetOptions['quotas']>;
/**
 * The three limits of the "on" variants, far above anything the benchmark reaches. The rate is 1,000/s (an interval
 * of exactly 1 ms): the stores round each admission's theoretical arrival time up to a whole millisecond, so a rate
 * above 1,000/s would in effect be 1,000/s with a smaller burst (see RESULTS.md).
 */
const QUOTA_LIMITS: NonNullable<QuotasInput['limits']> = [
  { id: 'agent-rate', per: ['client'], rate: { perSecond: 1000, burst: 1_000_000 } },
  { id: 'daily', per: ['client', 'tool'], window: { limit: 1_000_000_000, per: 'day' } },
  { id: 'in-flight', per: ['client'], concurrency: { limit: 1000, leaseSeconds: 600 } },
];
const ONE_LIMIT: QuotasInput = { limits: QUOTA_LIMITS.slice(0, 1) };
const THREE_LIMITS: QuotasInput = { onStoreDown: 'deny', limits: QUOTA_LIMITS };

/** The counter key the gate uses for the daily window of `clientId` calling demo's `echo` (src/gate/quota.ts). */
function dailyKey(tenant: string, clientId: string): string {
  return `${['quota', tenant, 'daily', clientId, 'demo/echo'].map(encodeURIComponent).join(':')}:${calendarWindow('day', Date.now()).start}`;
}

// ---- Part A: one limit check ----------------------------------------------------------------------------------

/** One kind of check: through the store or the whole gate, one limit or three, spread over agents or on one agent. */
interface CheckCase {
  via: 'Store.admit' | 'admitToolCall';
  three: boolean;
  /** Leases one agent already holds when every check is that agent's (a hot key, like the gateway's one client); 0: spread over the agents. */
  held: number;
}
const CHECK_CASES: readonly CheckCase[] = [
  { via: 'Store.admit', three: false, held: 0 },
  { via: 'Store.admit', three: true, held: 0 },
  { via: 'Store.admit', three: true, held: heldLeases },
  { via: 'admitToolCall', three: false, held: 0 },
  { via: 'admitToolCall', three: true, held: 0 },
];

/** One way of checking: `check(agent)` admits one call of that agent and ends its lease, as the gate does. */
interface Checker {
  check(agent: number): Promise<void>;
  /** The key counting an agent's admissions (a window), when the checker has one. */
  counter?(agent: number): string;
}

function admitted(admission: Admission): void {
  if (!admission.admitted) throw new Error(`limit ${admission.refused} refused (retry after ${admission.retryAfterMs} ms): a bug in the benchmark`);
}

async function storeChecker(store: Store, scope: string, { three, held }: CheckCase): Promise<Checker> {
  const resetAt = Date.now() + 86_400_000;
  const concurrency = (agent: number, lease: string, now: number): Limit => ({ kind: 'concurrency', key: `${scope}:concurrency:${agent}`, limit: 1000, lease, expiresAt: now + 600_000 });
  for (let i = 0; i < held; i++) admitted(await store.admit([concurrency(0, `held-${i}`, Date.now())], Date.now()));
  let leases = 0;
  return {
    ...(three && { counter: (agent: number) => `${scope}:window:${agent}` }),
    async check(spreadAgent) {
      const agent = held > 0 ? 0 : spreadAgent;
      const now = Date.now();
      const rateLimit: Limit = { kind: 'rate', key: `${scope}:rate:${agent}`, intervalMs: 1, burst: 1_000_000, cost: 1 };
      if (!three) return admitted(await store.admit([rateLimit], now));
      const lease = String(leases++);
      const bound = concurrency(agent, lease, now);
      admitted(await store.admit([rateLimit, { kind: 'window', key: `${scope}:window:${agent}`, limit: 1e12, cost: 1, resetAt }, bound], now));
      await store.release(bound.key, lease);
    },
  };
}

function gateChecker(store: Store, tenant: string, three: boolean): Checker {
  const gate: QuotaGateOptions = { tenant, quotas: compileQuotas(quotasSchema.parse(three ? THREE_LIMITS : ONE_LIMIT), new Map()), store, now: Date.now, logger, metrics: new Metrics() };
  return {
    ...(three && { counter: (agent: number) => dailyKey(tenant, `agent-${agent}`) }),
    async check(agent) {
      const release = await admitToolCall(gate, { clientId: `agent-${agent}`, sub: `user-${agent}`, upstream: 'demo', tool: 'echo' });
      await release();
    },
  };
}

interface CheckRow extends CheckCase {
  store: 'memory' | 'redis';
  /** One at a time: wall-clock µs per check, and CPU µs per check of this process and of Redis. */
  micros: number;
  cpuMicros: number;
  redisCpuMicros?: number;
  /** `checkConcurrency` in flight (Redis only). */
  inFlight?: Measurement;
}
const checkRows: CheckRow[] = [];

async function benchChecks(store: Store, kind: 'memory' | 'redis', round: number, redisCpu: (() => Promise<NodeJS.CpuUsage>) | undefined): Promise<void> {
  const total = (usage: NodeJS.CpuUsage) => usage.user + usage.system;
  for (const checkCase of CHECK_CASES) {
    const { via, three, held } = checkCase;
    const scope = `bench-${via === 'Store.admit' ? 'store' : 'gate'}-${three ? 3 : 1}-${held}-r${round}`;
    const checker = via === 'Store.admit' ? await storeChecker(store, scope, checkCase) : gateChecker(store, scope, three);
    // The hot-key case costs 10× more per check on the memory store; Redis's count of checks is plenty there.
    const n = kind === 'memory' && held === 0 ? memoryChecks : redisChecks;
    let next = 0;
    for (let i = 0; i < n / 10; i++) await checker.check(next++ % agents);
    const cpuBefore = process.cpuUsage();
    const redisBefore = await redisCpu?.();
    const began = performance.now();
    for (let i = 0; i < n; i++) await checker.check(next++ % agents);
    const micros = ((performance.now() - began) * 1000) / n;
    const row: CheckRow = { ...checkCase, store: kind, micros, cpuMicros: total(process.cpuUsage(cpuBefore)) / n };
    if (redisCpu && redisBefore) row.redisCpuMicros = (total(await redisCpu()) - total(redisBefore)) / n;
    if (kind === 'redis') {
      const checkOne = () => checker.check(next++ % agents).then(() => undefined);
      const cpu = { cpuUsage: async () => process.cpuUsage(), ...(redisCpu && { otherCpu: { redis: redisCpu } }) };
      row.inFlight = await measure(checkOne, { ...cpu, concurrency: checkConcurrency, warmupMs: warmupSeconds * 1000, durationMs: seconds * 1000 });
      if (row.inFlight.failures > 0) problems.push(`${scope} on ${kind}: ${row.inFlight.failures} checks failed (first: ${row.inFlight.firstFailure})`);
    }
    // Every admission counted: the window counters of all agents add up to the checks made (warm-up included).
    if (checker.counter) {
      let counted = 0;
      for (let agent = 0; agent < agents; agent++) counted += Number((await store.get<number>(checker.counter(agent))) ?? 0);
      if (counted !== next) problems.push(`${scope} on ${kind}: the window counters hold ${counted}, ${next} checks were made`);
    }
    checkRows.push(row);
    noteLoad();
    const inFlight = row.inFlight ? `; ${checkConcurrency} in flight ${row.inFlight.perSecond.toFixed(0)} checks/s` : '';
    console.error(`  ${kind} ${via}, ${limitsLabel(checkCase)}: ${micros.toFixed(1)} µs/check one at a time${inFlight}`);
  }
}

function limitsLabel({ three, held }: CheckCase): string {
  return `${three ? '3 (rate, window, concurrency) + release' : '1 (rate)'}${held > 0 ? `, one agent already holding ${held} leases` : ''}`;
}

// ---- Part B: tools/call through the gateway, quotas off and on -------------------------------------------------

interface CallRow {
  store: 'memory' | 'redis';
  quotas: boolean;
  saturation: Measurement;
  fixedRate: Measurement;
  commandsPerCall?: number;
  scriptsPerCall?: number;
}
const callRows: CallRow[] = [];
const echo = new EchoCalls(textBytes);
const upstreamScript = fileURLToPath(new URL('./upstream.js', import.meta.url));

async function benchCalls(kind: 'memory' | 'redis', quotas: boolean, redis: Redis, redisCpu: (() => Promise<NodeJS.CpuUsage>) | undefined): Promise<void> {
  console.error(`  gateway on ${kind}, quotas ${quotas ? 'on' : 'off'}`);
  const upstream: BenchUpstream = { id: 'demo', prefix: '', transport: 'stdio', command: process.execPath, args: [upstreamScript, 'stdio'], maxProcesses: Math.max(16, sessionCount) };
  const gateway = await launchTarget(kind, { ...options, upstream, ...(quotas && { quotas: THREE_LIMITS }) });
  const clients: Client[] = [];
  try {
    const token = await gatewayToken(gateway.url, options);
    const transport = () => new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
    await openSessions(sessionCount, transport, clients);
    const counter = dailyKey('default', options.clientId);
    const countedBefore = Number((await gateway.storeGet!(counter)) ?? 0);
    const callsBefore = echo.count;
    const commandsBefore = kind === 'redis' ? [await redisCommandCount(redis), await redisCommandCount(redis, 'evalsha')] : [];
    const first = await Promise.all(clients.map((client) => echo.call(client)));
    if (first.some((failure) => failure !== undefined)) throw new Error(`the first calls failed: ${first.join('; ')}`);
    const upstreamPids = await childPids(gateway.pid);
    const cpu = {
      cpuUsage: gateway.cpuUsage,
      otherCpu: { upstream: () => processCpu(upstreamPids), client: async () => process.cpuUsage(), ...(kind === 'redis' && redisCpu && { redis: redisCpu }) },
      warmupMs: warmupSeconds * 1000,
    };
    let next = 0;
    const operation = () => echo.call(clients[next++ % clients.length]!);
    const saturation = await measure(operation, { ...cpu, durationMs: seconds * 1000, concurrency });
    noteLoad();
    const fixedRate = await measureRate(operation, { ...cpu, durationMs: rateSeconds * 1000, ratePerSecond: rate, maxInFlight: 512 });
    noteLoad();
    const calls = echo.count - callsBefore;
    const row: CallRow = { store: kind, quotas, saturation, fixedRate };
    if (kind === 'redis') {
      row.commandsPerCall = ((await redisCommandCount(redis)) - commandsBefore[0]!) / calls;
      row.scriptsPerCall = ((await redisCommandCount(redis, 'evalsha')) - commandsBefore[1]!) / calls;
    }
    // Quotas were in force: the gateway's own daily counter counted every call (and nothing without quotas).
    const counted = Number((await gateway.storeGet!(counter)) ?? 0) - countedBefore;
    console.error(`    ${calls} calls, counted by the daily window: ${counted}`);
    if (counted !== (quotas ? calls : 0)) problems.push(`gateway on ${kind}, quotas ${quotas ? 'on' : 'off'}: ${calls} calls, counted ${counted}`);
    for (const [figure, result] of [['saturation', saturation], ['fixed rate', fixedRate]] as const) {
      if (result.failures > 0) problems.push(`gateway on ${kind}, quotas ${quotas ? 'on' : 'off'}, ${figure}: ${result.failures} calls failed (first: ${result.firstFailure})`);
      console.error(`    ${figure}: ${result.perSecond.toFixed(0)}/s p50 ${result.p50Ms.toFixed(2)} ms p99 ${result.p99Ms.toFixed(2)} ms, gateway CPU ${result.cpuMicrosPerOp?.toFixed(0)} µs/call`);
    }
    callRows.push(row);
  } finally {
    await closeSessions(clients);
    await gateway.close();
  }
}

// ---- tables -----------------------------------------------------------------------------------------------------


function checkTable(): string[] {
  const lines = [
    `Limit checks over ${agents} agents' keys. One at a time: ${memoryChecks} checks on the memory store (${redisChecks} with leases held) and ${redisChecks} on Redis, after a tenth as many of warm-up. ` +
      `In flight: closed loop, ${checkConcurrency} checks in flight, ${warmupSeconds} s warm-up + ${seconds} s. Medians of ${rounds} round${rounds === 1 ? '' : 's'}.`,
    '',
    `| Check | Store | Limits | µs/check, one at a time | per round | CPU µs/check, this process | CPU µs/check, Redis | Checks/s, ${checkConcurrency} in flight | p50 ms | p99 ms | CPU µs/check, this process | CPU µs/check, Redis |`,
    '|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const checkCase of CHECK_CASES) {
    for (const kind of ['memory', 'redis'] as const) {
      const of = checkRows.filter((row) => row.store === kind && row.via === checkCase.via && row.three === checkCase.three && row.held === checkCase.held);
      if (of.length === 0) continue;
      const pick = (f: (row: CheckRow) => number | undefined) => median(of.map((row) => f(row) ?? Number.NaN));
      lines.push(
        `| ${[`\`${checkCase.via}\``, kind, limitsLabel(checkCase), num(pick((r) => r.micros), 1), of.map((r) => r.micros.toFixed(1)).join(', '), num(pick((r) => r.cpuMicros), 1), num(pick((r) => r.redisCpuMicros), 1),
          num(pick((r) => r.inFlight?.perSecond)), num(pick((r) => r.inFlight?.p50Ms), 2), num(pick((r) => r.inFlight?.p99Ms), 2), num(pick((r) => r.inFlight?.cpuMicrosPerOp), 1),
          num(pick((r) => r.inFlight?.otherCpuMicrosPerOp?.redis), 1)].join(' | ')} |`,
      );
    }
  }
  return lines;
}

function callTables(): string[] {
  const group = (kind: string, quotas: boolean) => callRows.filter((row) => row.store === kind && row.quotas === quotas);
  const ofRounds = rounds > 1 ? ` Medians of ${rounds} rounds.` : '';
  const saturation = [
    `Saturation: closed loop, ${concurrency} calls in flight over ${sessionCount} sessions, stdio demo upstream.${ofRounds}`,
    '',
    '| Store | Quotas | Calls/s | per round | × off | p50 ms | p99 ms | Gateway CPU µs/call | added | per round | Upstream CPU µs/call | Client CPU µs/call | Redis CPU µs/call | Failed |',
    '|---|---|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|',
  ];
  const fixed = [
    `Fixed rate: open loop, ${rate} calls/s, latency from when each call was due.${ofRounds}`,
    '',
    '| Store | Quotas | Calls/s | p50 ms | p99 ms | p50 added ms | p99 added ms | Gateway CPU µs/call | added | Redis CPU µs/call | Redis commands/call | of them scripts (EVALSHA) | Failed |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const kind of ['memory', 'redis'] as const) {
    for (const quotas of [false, true]) {
      const of = group(kind, quotas);
      if (of.length === 0) continue;
      const off = group(kind, false);
      const pick = (rows: CallRow[], f: (row: CallRow) => number | undefined) => median(rows.map((row) => f(row) ?? Number.NaN));
      const both = (f: (row: CallRow) => number | undefined, digits = 0) => [num(pick(of, f), digits), quotas ? signed(pick(of, f) - pick(off, f), digits) : ''];
      const failed = (which: 'saturation' | 'fixedRate') => of.reduce((sum, row) => sum + row[which].failures, 0);
      const where = [kind, quotas ? 'on (3 limits)' : 'off'];
      const sat = (row: CallRow) => row.saturation;
      saturation.push(
        `| ${[...where, num(pick(of, (r) => sat(r).perSecond)), of.map((r) => sat(r).perSecond.toFixed(0)).join(', '), quotas ? num(pick(of, (r) => sat(r).perSecond) / pick(off, (r) => sat(r).perSecond), 2) : '1',
          num(pick(of, (r) => sat(r).p50Ms), 2), num(pick(of, (r) => sat(r).p99Ms), 2), ...both((r) => sat(r).cpuMicrosPerOp), of.map((r) => num(sat(r).cpuMicrosPerOp)).join(', '), num(pick(of, (r) => sat(r).otherCpuMicrosPerOp?.upstream)),
          num(pick(of, (r) => sat(r).otherCpuMicrosPerOp?.client)), num(pick(of, (r) => sat(r).otherCpuMicrosPerOp?.redis)), failed('saturation')].join(' | ')} |`,
      );
      fixed.push(
        `| ${[...where, num(pick(of, (r) => r.fixedRate.perSecond)), num(pick(of, (r) => r.fixedRate.p50Ms), 2), num(pick(of, (r) => r.fixedRate.p99Ms), 2),
          quotas ? signed(pick(of, (r) => r.fixedRate.p50Ms) - pick(off, (r) => r.fixedRate.p50Ms), 2) : '', quotas ? signed(pick(of, (r) => r.fixedRate.p99Ms) - pick(off, (r) => r.fixedRate.p99Ms), 2) : '',
          ...both((r) => r.fixedRate.cpuMicrosPerOp), num(pick(of, (r) => r.fixedRate.otherCpuMicrosPerOp?.redis)), num(pick(of, (r) => r.commandsPerCall), 2), num(pick(of, (r) => r.scriptsPerCall), 2),
          failed('fixedRate')].join(' | ')} |`,
      );
    }
  }
  return [...saturation, '', ...fixed];
}

// ---- run --------------------------------------------------------------------------------------------------------

const loadAtStart = loadavg()[0]!.toFixed(2);
const redis = await redisAdmin(redisUrl);
const redisPid = await redisServerPid(redis);
// Redis's CPU time is read from /proc, so only when it runs on this machine.
const redisCpu = (await residentMiB(redisPid)) === undefined ? undefined : () => processCpu([redisPid]);
const memoryStore = new MemoryStore();
const redisStore = new RedisStore({ url: redisUrl, keyPrefix: options.redisKeyPrefix });
try {
  const header = [
    ...(await describeMachine(redis, ['@modelcontextprotocol/sdk', 'hono', '@hono/node-server', 'ioredis'])),
    `settings: ${rounds} round${rounds === 1 ? '' : 's'}, variants interleaved (quotas off/on order alternating by round); limit checks in this process; ` +
      `tools/call: ${concurrency} in flight (${warmupSeconds} s + ${seconds} s) and ${rate} calls/s (${warmupSeconds} s + ${rateSeconds} s) over ${sessionCount} sessions, ` +
      `echo text of ${textBytes} bytes, gateway in a child process, load generator in the parent`,
  ];
  console.error(header.join('\n'));
  for (let round = 1; round <= rounds; round++) {
    console.error(`round ${round} of ${rounds}`);
    if (only !== 'calls') {
      await benchChecks(memoryStore, 'memory', round, undefined);
      await benchChecks(redisStore, 'redis', round, redisCpu);
    }
    if (only !== 'checks') {
      for (const kind of ['memory', 'redis'] as const) {
        for (const quotas of round % 2 === 1 ? [false, true] : [true, false]) {
          try {
            await benchCalls(kind, quotas, redis, redisCpu);
          } catch (error) {
            problems.push(`gateway on ${kind}, quotas ${quotas ? 'on' : 'off'}: ${error instanceof Error ? error.message : String(error)}`);
            console.error(`    failed: ${problems.at(-1)}`);
          }
        }
      }
    }
  }
  header.push(`load average (1 min): ${loadAtStart} at the start, at most ${highestLoad.toFixed(2)} after a figure, ${loadavg()[0]!.toFixed(2)} at the end`);
  const tables = [...(checkRows.length > 0 ? ['', ...checkTable()] : []), ...(callRows.length > 0 ? ['', ...callTables()] : [])];
  const verdict = problems.length === 0 ? ['', '- every admission was admitted, and every window counter counted exactly the checks and calls made'] : ['', ...problems.map((line) => `- PROBLEM: ${line}`)];
  console.log([...header.map((line) => `- ${line}`), ...tables, ...verdict].join('\n'));
  if (problems.length > 0) process.exitCode = 1;
} finally {
  await memoryStore.close();
  await redisStore.close();
  const removed = await removeBenchKeys(redis, options.redisKeyPrefix);
  console.error(`removed ${removed} Redis keys under ${options.redisKeyPrefix}`);
  await redis.quit();
}
