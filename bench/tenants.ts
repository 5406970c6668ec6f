import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Redis } from 'ioredis';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { randomToken, tokenHash } from '../oauth/crypto.js';
import { parseConfig, parseConfigText } from '../src/config/load.js';
import type { Config, ConfigInput } from '../src/config/schema.js';
import type { Caller, Decision, Policy, Target as PolicyTarget } from '../src/policy/engine.js';
import { Tenants } from '../src/tenancy/resources.js';
import { measure, median, type Measurement } from './load.js';
import { describeMachine, redisAdmin, redisCommandCount, removeBenchKeys, residentMiB } from './machine.js';
import { closeSessions, EchoCalls, gatewayToken, openSessions } from './mcp-client.js';
import { freshTargetOptions, launchTarget, type StartupMarks, type Target, type TargetOptions } from './targets.js';

// Many tenants: with 10, 1,000 and 10,000 tenants in the configuration file, the gateway's start-up time, memory
// per tenant, the policy decision time per call, and tools/call through the gateway at the fewest and the most
// tenants; then tenants created through the admin API on Redis and a second replica loading them, and the cost of
// one service client per tenant. Command, figures and a reading of them: bench/RESULTS.md, "Many tenants".
//
//   npm run bench:tenants
//   BENCH_TENANTS='10 1000 10000' BENCH_STARTUP_ROUNDS=3 BENCH_ROUNDS=5 BENCH_SECONDS=5 BENCH_WARMUP_SECONDS=1 \
//     BENCH_PRIME_SECONDS=5 BENCH_CONCURRENCY=32 BENCH_SESSIONS=4 BENCH_TEXT_BYTES=100 \
//     BENCH_ADMIN_TENANTS='10 1000 10000' BENCH_CLIENT_TENANTS='500 1000 2000' REDIS_URL=redis://127.0.0.1:6379 \
//     npm run bench:tenants
//   BENCH_ONLY='config policy' npm run bench:tenants        # parts: config policy startup throughput admin clients
//   BENCH_CPU_PROF_DIR=/tmp/prof npm run bench:tenants      # also a CPU profile of one start-up at the most tenants

const counts = numbers(process.env.BENCH_TENANTS ?? '10 1000 10000');
const startupRounds = Number(process.env.BENCH_STARTUP_ROUNDS ?? 3);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
// Before the measured rounds, each gateway serves calls unmeasured this long, so that neither is measured cold.
const primeSeconds = Number(process.env.BENCH_PRIME_SECONDS ?? 5);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 1);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const sessionCount = Number(process.env.BENCH_SESSIONS ?? 4);
const textBytes = Number(process.env.BENCH_TEXT_BYTES ?? 100);
const adminCounts = numbers(process.env.BENCH_ADMIN_TENANTS ?? '10 1000 10000');
// One service client per tenant: start-up and memory with many configured clients.
const clientCounts = numbers(process.env.BENCH_CLIENT_TENANTS ?? '500 1000 2000');
const only = process.env.BENCH_ONLY?.split(/\s+/).filter(Boolean);
const profileDir = process.env.BENCH_CPU_PROF_DIR;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const fewest = Math.min(...counts);
const most = Math.max(...counts);

const PARTS = ['config', 'policy', 'startup', 'throughput', 'admin', 'clients'] as const;
type Part = (typeof PARTS)[number];
const runs = (part: Part) => only === undefined || only.includes(part);

function numbers(list: string): number[] {
  return list.split(/\s+/).filter(Boolean).map(Number);
}

const options: TargetOptions = freshTargetOptions(redisUrl);
const adminToken = randomToken();

const problems: string[] = [];
function fail(problem: string): void {
  problems.push(problem);
  console.error(`    FAILED: ${problem}`);
}
let highestLoad = 0;
const noteLoad = () => {
  highestLoad = Math.max(highestLoad, loadavg()[0]!);
};

// ---- the tenants -----------------------------------------------------------------------------------------------

type TenantInput = ConfigInput['tenants'][number];

const tenantId = (i: number) => `t-${String(i).padStart(5, '0')}`;
/** The tenant the measured calls go to: the one in the middle of the list. */
const middle = (n: number) => Math.floor(n / 2);

/**
 * Tenant number `i`: the in-process demo upstream (unprefixed, so the tool is `echo`), two scopes of its own, and a
 * policy of nine rules (default deny) mixing tool globs, annotations, a group, users, client globs, `when`
 * conditions and allow rules that need a scope (step-up). Numbers in names and thresholds differ per tenant, so no
 * two tenants are the same.
 */
function benchTenant(i: number): TenantInput {
  return {
    id: tenantId(i),
    name: `Tenant ${i}`,
    scopes: [
      { name: 'payments:write', description: 'Make payments above the small-payment limit' },
      { name: 'notes:write', description: 'Write notes' },
    ],
    upstreams: [{ id: 'demo', transport: 'demo', prefix: '' }],
    members: { users: [], groups: [`staff-${i}`] },
    policy: {
      default: 'deny',
      rules: [
        { id: 'no-destructive', effect: 'deny', tools: ['*'], annotations: { destructiveHint: true }, description: 'Nothing destructive through agents' },
        { id: 'no-admin-tools', effect: 'deny', tools: ['admin_*', '*_delete', `internal-${i}-*`] },
        { id: 'no-huge-text', effect: 'deny', tools: ['echo', 'note_*'], when: 'size(args.text) > 8192', description: 'Texts above 8 KiB are refused' },
        { id: 'read-only', effect: 'allow', annotations: { readOnlyHint: true }, description: 'Tools that only read are open to every member' },
        { id: 'small-payments', effect: 'allow', tools: ['payments_*'], when: `args.amount < ${100 + (i % 50)}` },
        { id: 'payments-step-up', effect: 'allow', tools: ['payments_*'], scopes: ['payments:write'], description: 'Larger payments need payments:write' },
        { id: 'notes-writers', effect: 'allow', tools: ['note_write'], clients: ['https://claude.ai/*', `svc-${i}-*`], scopes: ['notes:write'] },
        { id: 'ops-all-tools', effect: 'allow', groups: [`ops-${i}`], tools: ['*'] },
        { id: 'tenant-owner', effect: 'allow', users: [`local:owner-${i}`] },
      ],
    },
  };
}

/**
 * The configuration file of a gateway with `n` tenants on the memory store (the first tenant is the default one),
 * with the benchmark's service client on the middle tenant or, with `clientPerTenant`, one service client on each.
 */
function tenantsConfig(n: number, { clientPerTenant = false } = {}): ConfigInput {
  const tenants = Array.from({ length: n }, (_, i) => benchTenant(i));
  const clients = clientPerTenant
    ? tenants.map((tenant) => ({ clientId: `svc-${tenant.id}`, clientSecret: options.clientSecret, tenant: tenant.id }))
    : [{ clientId: options.clientId, clientSecret: options.clientSecret, tenant: tenantId(middle(n)) }];
  return { tenants, defaultTenant: tenantId(0), clients, server: { host: '127.0.0.1', port: 0 }, store: { type: 'memory' }, logLevel: 'silent' };
}

/** The configuration file of the admin-API replicas: one configured tenant, a global admin token, Redis. */
async function adminConfig(): Promise<ConfigInput> {
  return {
    tenants: [{ id: 'default', upstreams: [{ id: 'demo', transport: 'demo', prefix: '' }] }],
    admin: { tokens: [{ name: 'bench', tokenHash: await tokenHash(adminToken), tenants: ['*'] }] },
    server: { host: '127.0.0.1', port: 0 },
    store: { type: 'redis', url: redisUrl, keyPrefix: options.redisKeyPrefix },
    encryptionKey: options.encryptionKey,
    logLevel: 'silent',
  };
}

// ---- small helpers ---------------------------------------------------------------------------------------------

function quantile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const MiB = 2 ** 20;
const fmt = (value: number | undefined, digits = 0) => (value === undefined || Number.isNaN(value) ? '' : value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));

/** Milliseconds `work` takes, and what it returns. */
function timed<T>(work: () => T): { ms: number; value: T } {
  const began = performance.now();
  const value = work();
  return { ms: performance.now() - began, value };
}

/** This process's heap in use after a full GC (exact only with --expose-gc, which `npm run bench:tenants` passes). */
function heapUsed(): number {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
}

const tempDir = await mkdtemp(join(tmpdir(), 'portcullis-bench-tenants-'));
/** Writes a configuration as YAML, the format users write, readable only by this user (it holds secrets). */
/** `BENCH_CONFIG_FORMAT=json` writes the gateway's configuration as JSON, which the loader reads with `JSON.parse`. */
const configFormat = process.env.BENCH_CONFIG_FORMAT === 'json' ? 'json' : 'yaml';

async function writeConfig(name: string, config: ConfigInput): Promise<{ file: string; bytes: number }> {
  const file = join(tempDir, configFormat === 'json' ? name.replace(/\.yaml$/, '.json') : name);
  const text = configFormat === 'json' ? JSON.stringify(config) : toYaml(config);
  await writeFile(file, text, { mode: 0o600 });
  return { file, bytes: Buffer.byteLength(text) };
}

// ---- in-process: configuration and compiled tenants ------------------------------------------------------------

interface ConfigRow {
  n: number;
  yamlBytes: number;
  yamlMs: number;
  validateMs: number;
  loadMs: number;
  compileMs: number;
  configHeap: number;
  tenantsHeap: number;
}
const configRows: ConfigRow[] = [];
/** The compiled tenants of the fewest and the most tenants, for the policy microbenchmark. */
const compiled = new Map<number, Tenants>();

/** What {@link heapOf} measures, held here so that nothing of it can be collected before it is measured. */
const held: unknown[] = [];

/**
 * The heap that the validated configuration of `text` and then the compiled tenants keep, each measured after a
 * full GC; resolves to the compiled tenants.
 */
function heapOf(text: string): { configHeap: number; tenantsHeap: number; tenants: Tenants } {
  held.length = 0;
  const before = heapUsed();
  held.push(parseConfigText(text, {}, 'bench'));
  const afterConfig = heapUsed();
  const tenants = new Tenants(held[0] as Config, 'http://127.0.0.1:8787');
  held.push(tenants);
  const afterTenants = heapUsed();
  held.length = 0;
  return { configHeap: afterConfig - before, tenantsHeap: afterTenants - afterConfig, tenants };
}

function benchConfigLoad(n: number): void {
  const input = tenantsConfig(n);
  const text = toYaml(input);
  const yamlMs: number[] = [];
  const validateMs: number[] = [];
  const loadMs: number[] = [];
  const compileMs: number[] = [];
  for (let round = 0; round < startupRounds; round++) {
    yamlMs.push(timed(() => parseYaml(text)).ms);
    validateMs.push(timed(() => parseConfig(input)).ms);
    const load = timed(() => parseConfigText(text, {}, 'bench'));
    loadMs.push(load.ms);
    compileMs.push(timed(() => new Tenants(load.value, 'http://127.0.0.1:8787')).ms);
  }
  const { configHeap, tenantsHeap, tenants } = heapOf(text);
  if (tenants.list().length !== n) fail(`${n} tenants configured, ${tenants.list().length} compiled`);
  if (n === fewest || n === most) compiled.set(n, tenants);
  const row: ConfigRow = { n, yamlBytes: Buffer.byteLength(text), yamlMs: median(yamlMs), validateMs: median(validateMs), loadMs: median(loadMs), compileMs: median(compileMs), configHeap, tenantsHeap };
  configRows.push(row);
  console.error(
    `  ${n} tenants: YAML ${(row.yamlBytes / MiB).toFixed(2)} MiB; YAML parse ${row.yamlMs.toFixed(0)} ms, validate ${row.validateMs.toFixed(0)} ms, ` +
      `load (both) ${row.loadMs.toFixed(0)} ms, compile ${row.compileMs.toFixed(0)} ms; heap: config ${(configHeap / MiB).toFixed(1)} MiB, tenants ${(tenantsHeap / MiB).toFixed(1)} MiB`,
  );
}

// ---- in-process: policy decisions ------------------------------------------------------------------------------

const ECHO_ANNOTATIONS = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
const serviceCaller: Caller = { sub: options.clientId, groups: [], clientId: options.clientId, scopes: ['mcp'] };
const userCaller = (i: number): Caller => ({ sub: 'local:alice', groups: [`staff-${i}`], clientId: 'https://claude.ai/oauth/mcp-oauth-client-metadata', scopes: ['mcp'] });

interface DecisionCase {
  name: string;
  expect: Decision['effect'];
  rule: string | undefined;
  caller: (i: number) => Caller;
  target: PolicyTarget;
  args: Record<string, unknown> | undefined;
}

const echoText = 'x'.repeat(textBytes);
const DECISION_CASES: readonly DecisionCase[] = [
  {
    name: 'tools/call echo, the call measured below (service client)',
    expect: 'allow',
    rule: 'read-only',
    caller: () => serviceCaller,
    target: { kind: 'tool', upstream: 'demo', name: 'echo', annotations: ECHO_ANNOTATIONS },
    args: { text: echoText },
  },
  {
    name: 'payments_transfer, amount 50: allowed by a `when` condition (user)',
    expect: 'allow',
    rule: 'small-payments',
    caller: userCaller,
    target: { kind: 'tool', upstream: 'demo', name: 'payments_transfer', annotations: { readOnlyHint: false } },
    args: { amount: 50, to: 'acct-1' },
  },
  {
    name: 'payments_transfer, amount 500: step-up to payments:write (user)',
    expect: 'step-up',
    rule: 'payments-step-up',
    caller: userCaller,
    target: { kind: 'tool', upstream: 'demo', name: 'payments_transfer', annotations: { readOnlyHint: false } },
    args: { amount: 500, to: 'acct-1' },
  },
  {
    name: 'note_delete: denied by annotations (user)',
    expect: 'deny',
    rule: 'no-destructive',
    caller: userCaller,
    target: { kind: 'tool', upstream: 'demo', name: 'note_delete', annotations: { readOnlyHint: false, destructiveHint: true } },
    args: { title: 'x' },
  },
  {
    name: 'echo for tools/list (no arguments, service client)',
    expect: 'allow',
    rule: 'read-only',
    caller: () => serviceCaller,
    target: { kind: 'tool', upstream: 'demo', name: 'echo', annotations: ECHO_ANNOTATIONS },
    args: undefined,
  },
];

interface DecisionRow {
  name: string;
  expect: string;
  nanos: Map<number, number>;
}
const decisionRows: DecisionRow[] = [];
/** The tenant counts the decisions were measured at (the compiled tenants themselves are let go before start-up). */
const decisionCounts: number[] = [];

/** Nanoseconds per `policy.decide` for one case: the median of batches of about 50 ms each, after a warm-up. */
function benchDecision(policy: Policy, caller: Caller, target: PolicyTarget, args: Record<string, unknown> | undefined): number {
  let sink = 0;
  const run = (times: number) => {
    for (let k = 0; k < times; k++) if (policy.decide(caller, target, args).effect === 'allow') sink++;
  };
  run(20_000);
  let batch = 1000;
  while (timed(() => run(batch)).ms < 50) batch *= 2;
  const perCall: number[] = [];
  for (let b = 0; b < 7; b++) perCall.push((timed(() => run(batch)).ms * 1e6) / batch);
  if (sink < 0) console.error(sink);
  return median(perCall);
}

function benchDecisions(): void {
  decisionCounts.push(...compiled.keys());
  for (const testCase of DECISION_CASES) {
    const row: DecisionRow = { name: testCase.name, expect: testCase.expect, nanos: new Map() };
    for (const [n, tenants] of compiled) {
      const i = middle(n);
      const policy = tenants.get(tenantId(i))!.policy;
      const caller = testCase.caller(i);
      const decision = policy.decide(caller, testCase.target, testCase.args);
      if (decision.effect !== testCase.expect || decision.rule !== testCase.rule) {
        fail(`${testCase.name} at ${n} tenants: expected ${testCase.expect} by ${testCase.rule}, got ${decision.effect} by ${decision.rule ?? 'the default'}`);
        continue;
      }
      row.nanos.set(n, benchDecision(policy, caller, testCase.target, testCase.args));
    }
    decisionRows.push(row);
    console.error(`  ${testCase.name}: ${[...row.nanos].map(([n, ns]) => `${n} tenants ${ns.toFixed(0)} ns`).join(', ')}`);
  }
}

// ---- gateway children: start-up and memory ---------------------------------------------------------------------

interface StartupRound {
  /** From forking the child to the first 200 of the authorization server metadata, in ms. */
  firstAnswerMs: number;
  marks: StartupMarks;
  rssMiB: number;
  /** The most resident memory the child had by then (VmHWM). */
  peakMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
}
interface StartupRow {
  n: number;
  yamlBytes: number;
  rounds: StartupRound[];
  /** Median latency of GET /.well-known/oauth-authorization-server once started, in ms. */
  metadataMs: number;
  metadataBytes: number;
}
const startupRows: StartupRow[] = [];
/** Gateways kept running for the tools/call figures, by tenant count. */
const kept = new Map<number, Target>();

const AS_METADATA = '/.well-known/oauth-authorization-server';

/** Forks a gateway child and waits for its first successful discovery answer; resolves to the child and the time taken. */
async function startChild(kind: 'memory' | 'redis', configFile: string, execArgv: string[] = []): Promise<{ target: Target; firstAnswerMs: number }> {
  const began = performance.now();
  const target = await launchTarget(kind, { ...options, configFile }, { execArgv: ['--expose-gc', ...execArgv] });
  try {
    const response = await fetch(target.url + AS_METADATA);
    const body = (await response.json()) as { issuer?: string };
    if (response.status !== 200 || body.issuer !== target.url) throw new Error(`discovery answered ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
    return { target, firstAnswerMs: performance.now() - began };
  } catch (error) {
    await target.close();
    throw error;
  }
}

/** Checks that the gateway serves the protected resource metadata of tenant `id`. */
async function servesTenant(target: Target, id: string): Promise<boolean> {
  const response = await fetch(`${target.url}/.well-known/oauth-protected-resource/t/${id}/mcp`);
  const body = (await response.json()) as { resource?: string };
  return response.status === 200 && body.resource === `${target.url}/t/${id}/mcp`;
}

async function metadataLatency(target: Target): Promise<{ ms: number; bytes: number }> {
  const times: number[] = [];
  let bytes = 0;
  for (let k = 0; k < 50; k++) {
    const began = performance.now();
    const response = await fetch(target.url + AS_METADATA);
    bytes = (await response.arrayBuffer()).byteLength;
    times.push(performance.now() - began);
  }
  return { ms: median(times), bytes };
}

async function benchStartup(n: number, keep: boolean): Promise<void> {
  const { file, bytes } = await writeConfig(`tenants-${n}.yaml`, tenantsConfig(n));
  const row: StartupRow = { n, yamlBytes: bytes, rounds: [], metadataMs: Number.NaN, metadataBytes: 0 };
  for (let round = 0; round < startupRounds; round++) {
    const { target, firstAnswerMs } = await startChild('memory', file);
    let close = true;
    try {
      if (!(await servesTenant(target, tenantId(n - 1))) || !(await servesTenant(target, tenantId(middle(n))))) fail(`the gateway with ${n} tenants does not serve its last or middle tenant`);
      const memory = await target.memoryUsage();
      const rss = (await residentMiB(target.pid)) ?? Number.NaN;
      const peak = (await residentMiB(target.pid, { peak: true })) ?? Number.NaN;
      row.rounds.push({ firstAnswerMs, marks: target.startup!, rssMiB: rss, peakMiB: peak, heapUsedMiB: memory.heapUsed / MiB, heapTotalMiB: memory.heapTotal / MiB });
      const marks = target.startup!;
      console.error(
        `  ${n} tenants, start-up ${round + 1}: first answer after ${firstAnswerMs.toFixed(0)} ms (child: imports ${marks.importedMs.toFixed(0)}, ` +
          `config ${marks.configuredMs.toFixed(0)}, ready ${marks.readyMs.toFixed(0)} ms); RSS ${rss.toFixed(0)} MiB (peak ${peak.toFixed(0)}), heap ${(memory.heapUsed / MiB).toFixed(1)} of ${(memory.heapTotal / MiB).toFixed(0)} MiB used`,
      );
      if (round === startupRounds - 1) {
        const latency = await metadataLatency(target);
        row.metadataMs = latency.ms;
        row.metadataBytes = latency.bytes;
        if (keep) {
          kept.set(n, target);
          close = false;
        }
      }
    } finally {
      if (close) await target.close();
    }
    noteLoad();
  }
  startupRows.push(row);
}

/** One more start-up of the most tenants under --cpu-prof; the profile is written when the child exits. */
async function profileStartup(n: number): Promise<void> {
  const { file } = await writeConfig(`tenants-${n}.yaml`, tenantsConfig(n));
  const { target, firstAnswerMs } = await startChild('memory', file, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]);
  await target.close();
  console.error(`  ${n} tenants under --cpu-prof: first answer after ${firstAnswerMs.toFixed(0)} ms; profile in ${profileDir}`);
}

// ---- tools/call through the gateway at the fewest and the most tenants -----------------------------------------

interface ThroughputRow {
  n: number;
  results: Measurement[];
  rssAfterMiB: number;
}
const throughputRows: ThroughputRow[] = [];

async function benchThroughput(): Promise<void> {
  const echo = new EchoCalls(textBytes);
  const sides: { n: number; target: Target; clients: Client[]; row: ThroughputRow }[] = [];
  try {
    for (const [n, target] of kept) {
      const path = `/t/${tenantId(middle(n))}/mcp`;
      const token = await gatewayToken(target.url, options, path);
      const clients: Client[] = [];
      const side = { n, target, clients, row: { n, results: [] as Measurement[], rssAfterMiB: Number.NaN } };
      sides.push(side);
      await openSessions(sessionCount, () => new StreamableHTTPClientTransport(new URL(target.url + path), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }), clients);
    }
    for (const side of sides) {
      let next = 0;
      const primed = await measure(() => echo.call(side.clients[next++ % side.clients.length]!), { concurrency, warmupMs: 0, durationMs: primeSeconds * 1000 });
      if (primed.failures > 0) fail(`tools/call at ${side.n} tenants, priming: ${primed.failures} failed (first: ${primed.firstFailure})`);
    }
    // The two gateways take turns, so a busy minute on this shared machine lands on both.
    for (let round = 0; round < rounds; round++) {
      for (const side of sides) {
        let next = 0;
        const result = await measure(() => echo.call(side.clients[next++ % side.clients.length]!), {
          concurrency,
          warmupMs: warmupSeconds * 1000,
          durationMs: seconds * 1000,
          cpuUsage: side.target.cpuUsage,
          otherCpu: { client: async () => process.cpuUsage() },
        });
        side.row.results.push(result);
        noteLoad();
        const failed = result.failures > 0 ? `, ${result.failures} failed (first: ${result.firstFailure})` : '';
        console.error(
          `  ${side.n} tenants, round ${round + 1}: ${result.perSecond.toFixed(0)} calls/s p50 ${result.p50Ms.toFixed(2)} ms p99 ${result.p99Ms.toFixed(2)} ms; ` +
            `CPU µs/call gateway ${result.cpuMicrosPerOp?.toFixed(0)} client ${result.otherCpuMicrosPerOp?.client?.toFixed(0)}${failed}`,
        );
        if (result.failures > 0 || result.completed === 0) fail(`tools/call at ${side.n} tenants: ${result.failures} failed, ${result.completed} completed (first: ${result.firstFailure})`);
      }
    }
    for (const side of sides) {
      side.row.rssAfterMiB = (await residentMiB(side.target.pid)) ?? Number.NaN;
      throughputRows.push(side.row);
    }
  } finally {
    for (const side of sides) await closeSessions(side.clients);
  }
}

// ---- tenants created through the admin API, on Redis -----------------------------------------------------------

interface AdminRow {
  /** Tenants in the store after this step (besides the configured one). */
  n: number;
  created: number;
  putMs: number[];
  redisCommandsPerPut: number;
  indexBytes: number;
  writerHeapMiB: number;
  writerRssMiB: number;
  replica?: { firstAnswerMs: number; marks: StartupMarks; rssMiB: number; heapUsedMiB: number };
}
const adminRows: AdminRow[] = [];

async function putTenant(origin: string, i: number): Promise<string | undefined> {
  const { id, ...body } = benchTenant(i);
  const response = await fetch(`${origin}/admin/v1/tenants/${id}`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as { id?: string };
  return response.status === 201 && answer.id === id ? undefined : `PUT ${id}: ${response.status} ${JSON.stringify(answer).slice(0, 200)}`;
}

async function benchAdmin(redis: Redis): Promise<void> {
  const { file } = await writeConfig('admin.yaml', await adminConfig());
  const { target: writer } = await startChild('redis', file);
  try {
    let created = 0;
    for (const n of [...adminCounts].sort((a, b) => a - b)) {
      const putMs: number[] = [];
      const commandsBefore = await redisCommandCount(redis);
      const step = n - created;
      for (; created < n; created++) {
        const began = performance.now();
        const failure = await putTenant(writer.url, created);
        putMs.push(performance.now() - began);
        if (failure !== undefined) {
          fail(failure);
          return;
        }
      }
      const redisCommandsPerPut = ((await redisCommandCount(redis)) - commandsBefore) / step;
      const indexBytes = await redis.strlen(`${options.redisKeyPrefix}tenants:index`);
      const memory = await writer.memoryUsage();
      const row: AdminRow = { n, created: step, putMs, redisCommandsPerPut, indexBytes, writerHeapMiB: memory.heapUsed / MiB, writerRssMiB: (await residentMiB(writer.pid)) ?? Number.NaN };
      console.error(
        `  ${n} tenants through the admin API: ${step} PUTs, mean ${mean(putMs).toFixed(1)} ms, last 100 ${mean(putMs.slice(-100)).toFixed(1)} ms; ` +
          `${redisCommandsPerPut.toFixed(1)} Redis commands per PUT; index ${(indexBytes / 1024).toFixed(0)} KiB; writer heap ${row.writerHeapMiB.toFixed(1)} MiB`,
      );
      noteLoad();
      // A second replica sharing the store loads every tenant before it answers.
      const execArgv = profileDir !== undefined && n === Math.max(...adminCounts) ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
      const { target: replica, firstAnswerMs } = await startChild('redis', file, execArgv);
      try {
        if (!(await servesTenant(replica, tenantId(n - 1)))) fail(`the second replica does not serve tenant ${tenantId(n - 1)} of ${n}`);
        const replicaMemory = await replica.memoryUsage();
        row.replica = { firstAnswerMs, marks: replica.startup!, rssMiB: (await residentMiB(replica.pid)) ?? Number.NaN, heapUsedMiB: replicaMemory.heapUsed / MiB };
        console.error(`    second replica: first answer after ${firstAnswerMs.toFixed(0)} ms (ready ${replica.startup!.readyMs.toFixed(0)} ms in the child); RSS ${row.replica.rssMiB.toFixed(0)} MiB, heap ${row.replica.heapUsedMiB.toFixed(1)} MiB`);
      } finally {
        await replica.close();
      }
      adminRows.push(row);
      noteLoad();
    }
  } finally {
    await writer.close();
  }
}

// ---- one service client per tenant -----------------------------------------------------------------------------

interface ClientsRow {
  n: number;
  compileMs: number;
  oneClientCompileMs: number;
  tenantsHeap: number;
}
const clientsRows: ClientsRow[] = [];

/** `new Tenants` with one service client per tenant, against the same tenants with one service client in all. */
function benchClientsPerTenant(n: number): void {
  const many = parseConfig(tenantsConfig(n, { clientPerTenant: true }));
  const one = parseConfig(tenantsConfig(n));
  const oneClientCompileMs = median(Array.from({ length: startupRounds }, () => timed(() => new Tenants(one, 'http://127.0.0.1:8787')).ms));
  const before = heapUsed();
  const compileMs: number[] = [];
  let tenants: Tenants | undefined;
  for (let round = 0; round < startupRounds; round++) {
    tenants = undefined;
    const result = timed(() => new Tenants(many, 'http://127.0.0.1:8787'));
    compileMs.push(result.ms);
    tenants = result.value;
  }
  const tenantsHeap = heapUsed() - before;
  if (tenants?.list().length !== n) fail(`${n} tenants with a client each: ${tenants?.list().length} compiled`);
  clientsRows.push({ n, compileMs: median(compileMs), oneClientCompileMs, tenantsHeap });
  console.error(`  ${n} tenants, one service client each: compile ${median(compileMs).toFixed(0)} ms (one client in all: ${oneClientCompileMs.toFixed(0)} ms), compiled tenants ${(tenantsHeap / MiB).toFixed(1)} MiB`);
}

// ---- tables ----------------------------------------------------------------------------------------------------

function tables(): string[] {
  const lines: string[] = [];
  const base = startupRows.find((row) => row.n === fewest);
  if (startupRows.length > 0) {
    lines.push(
      `Start-up and memory: config-file tenants, memory store, gateway in a child process; medians of ${startupRounds} start-ups. ` +
        '"Per tenant" is (value at N − value at the fewest) ÷ (N − fewest).',
      '',
      '| Tenants | Config YAML MiB | Start-up ms (first 200 of AS metadata) | Per round | Node + imports ms | Config read + validated ms | Gateway built, listening ms | RSS MiB | Peak RSS MiB | Heap total MiB | Heap used MiB | RSS per tenant KiB | Heap used per tenant KiB | AS metadata GET ms | AS metadata bytes |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const row of startupRows) {
      const pick = (f: (round: StartupRound) => number) => median(row.rounds.map(f));
      const rss = pick((r) => r.rssMiB);
      const heap = pick((r) => r.heapUsedMiB);
      const perTenant = (value: number, baseValue: number | undefined) => (base === undefined || row.n === base.n || baseValue === undefined ? '' : fmt(((value - baseValue) * 1024) / (row.n - base.n), 1));
      const baseRss = base && median(base.rounds.map((r) => r.rssMiB));
      const baseHeap = base && median(base.rounds.map((r) => r.heapUsedMiB));
      lines.push(
        `| ${[
          fmt(row.n),
          (row.yamlBytes / MiB).toFixed(2),
          fmt(pick((r) => r.firstAnswerMs)),
          row.rounds.map((r) => fmt(r.firstAnswerMs)).join(', '),
          fmt(pick((r) => r.marks.importedMs)),
          fmt(pick((r) => r.marks.configuredMs - r.marks.importedMs)),
          fmt(pick((r) => r.marks.readyMs - r.marks.configuredMs)),
          fmt(rss),
          fmt(pick((r) => r.peakMiB)),
          fmt(pick((r) => r.heapTotalMiB)),
          fmt(heap, 1),
          perTenant(rss, baseRss),
          perTenant(heap, baseHeap),
          fmt(row.metadataMs, 2),
          fmt(row.metadataBytes),
        ].join(' | ')} |`,
      );
    }
    lines.push('');
  }
  if (configRows.length > 0) {
    lines.push(
      `Configuration in-process (the load generator's process, not the gateway): medians of ${startupRounds}. "Load" is \`parseConfigText\` (YAML parse, \${ENV} interpolation, validation), what start-up runs; ` +
        '"validate" is `parseConfig` alone (zod and the CEL checks); "compile" is `new Tenants` (each tenant\'s policy compiled). Heap after a full GC.',
      '',
      '| Tenants | YAML MiB | YAML parse ms | Validate ms | Load ms | Load µs/tenant | Compile ms | Compile µs/tenant | Heap of the config KiB/tenant | Heap of the compiled tenants KiB/tenant |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const row of configRows) {
      lines.push(
        `| ${[
          fmt(row.n),
          (row.yamlBytes / MiB).toFixed(2),
          fmt(row.yamlMs),
          fmt(row.validateMs),
          fmt(row.loadMs),
          fmt((row.loadMs * 1000) / row.n),
          fmt(row.compileMs, 1),
          fmt((row.compileMs * 1000) / row.n),
          fmt(row.configHeap / 1024 / row.n, 1),
          fmt(row.tenantsHeap / 1024 / row.n, 1),
        ].join(' | ')} |`,
      );
    }
    lines.push('');
  }
  if (decisionRows.length > 0) {
    const ns = decisionCounts;
    lines.push(
      `Policy decision time: \`Policy.decide\` of the middle tenant's compiled policy (9 rules, default deny), in-process, median of 7 batches of ≥ 50 ms; echo text of ${textBytes} bytes.`,
      '',
      `| Decision | Effect | ${ns.map((n) => `${fmt(n)} tenants, ns/decision`).join(' | ')} |`,
      `|---|---|${ns.map(() => '---:').join('|')}|`,
    );
    for (const row of decisionRows) lines.push(`| ${[row.name, row.expect, ...ns.map((n) => fmt(row.nanos.get(n)))].join(' | ')} |`);
    lines.push('');
  }
  if (throughputRows.length > 0) {
    lines.push(
      `tools/call \`echo\` through the gateway (memory store, demo upstream in-process) to the middle tenant's endpoint \`/t/<id>/mcp\`: closed loop, ` +
        `${concurrency} calls in flight over ${sessionCount} SDK client sessions, ${warmupSeconds} s warm-up + ${seconds} s; after ${primeSeconds} s of unmeasured calls to each, the two gateways take turns, ${rounds} rounds, medians.`,
      '',
      '| Tenants | Calls/s | Calls/s per round | p50 ms | p99 ms | Gateway CPU µs/call | Gateway CPU per round | Client CPU µs/call | Gateway RSS after, MiB | Failed |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const row of throughputRows) {
      const pick = (f: (m: Measurement) => number | undefined) => median(row.results.map((m) => f(m) ?? Number.NaN));
      lines.push(
        `| ${[
          fmt(row.n),
          fmt(pick((m) => m.perSecond)),
          row.results.map((m) => fmt(m.perSecond)).join(', '),
          fmt(pick((m) => m.p50Ms), 2),
          fmt(pick((m) => m.p99Ms), 2),
          fmt(pick((m) => m.cpuMicrosPerOp)),
          row.results.map((m) => fmt(m.cpuMicrosPerOp)).join(', '),
          fmt(pick((m) => m.otherCpuMicrosPerOp?.client)),
          fmt(row.rssAfterMiB),
          row.results.reduce((sum, m) => sum + m.failures, 0),
        ].join(' | ')} |`,
      );
    }
    const low = throughputRows.find((row) => row.n === fewest);
    const high = throughputRows.find((row) => row.n === most);
    if (low && high && low !== high) {
      const ratio = (f: (m: Measurement) => number | undefined) => median(high.results.map((m) => f(m) ?? Number.NaN)) / median(low.results.map((m) => f(m) ?? Number.NaN));
      const perRound = high.results.map((m, r) => fmt(m.perSecond / low.results[r]!.perSecond, 2)).join(', ');
      lines.push(
        '',
        `- Ratio ${fmt(most)} ÷ ${fmt(fewest)} tenants: calls/s ${fmt(ratio((m) => m.perSecond), 2)} (per round ${perRound}); gateway CPU µs/call ${fmt(ratio((m) => m.cpuMicrosPerOp), 2)}.`,
        `- Gateway RSS after the calls, per tenant: ${fmt(((high.rssAfterMiB - low.rssAfterMiB) * 1024) / (most - fewest), 1)} KiB.`,
      );
    }
    lines.push('');
  }
  if (adminRows.length > 0) {
    lines.push(
      'Tenants created through the admin API (`PUT /admin/v1/tenants/{id}`, one at a time, the same tenants as above) on one replica, Redis store; ' +
        'then a second replica started on the same store, timed to its first 200 of AS metadata (it loads every tenant before it answers).',
      '',
      '| Tenants in the store | PUTs in this step | Time for the step, s | PUT ms, mean | PUT ms, p50 / p99 | PUT ms, mean of the last 100 | Redis commands per PUT | Index key KiB | Writer heap MiB | Second replica start-up ms | Its ready mark ms | Its RSS MiB | Its heap MiB |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const row of adminRows) {
      lines.push(
        `| ${[
          fmt(row.n),
          fmt(row.created),
          fmt(row.putMs.reduce((sum, ms) => sum + ms, 0) / 1000, 1),
          fmt(mean(row.putMs), 1),
          `${fmt(quantile(row.putMs, 0.5), 1)} / ${fmt(quantile(row.putMs, 0.99), 1)}`,
          fmt(mean(row.putMs.slice(-100)), 1),
          fmt(row.redisCommandsPerPut, 1),
          fmt(row.indexBytes / 1024),
          fmt(row.writerHeapMiB, 1),
          fmt(row.replica?.firstAnswerMs),
          fmt(row.replica?.marks.readyMs),
          fmt(row.replica?.rssMiB),
          fmt(row.replica?.heapUsedMiB, 1),
        ].join(' | ')} |`,
      );
    }
    lines.push('');
  }
  if (clientsRows.length > 0) {
    lines.push(
      `One service client per tenant (\`clients[]\`, each bound to its tenant), in-process, medians of ${startupRounds}: \`new Tenants\` against the same tenants with one client in all.`,
      '',
      '| Tenants = clients | Compile ms | Compile ms, one client in all | Heap of the compiled tenants MiB |',
      '|---:|---:|---:|---:|',
    );
    for (const row of clientsRows) lines.push(`| ${[fmt(row.n), fmt(row.compileMs), fmt(row.oneClientCompileMs, 1), fmt(row.tenantsHeap / MiB, 1)].join(' | ')} |`);
    lines.push('');
  }
  return lines;
}

// ---- run -------------------------------------------------------------------------------------------------------

const loadAtStart = loadavg()[0]!.toFixed(2);
const began = performance.now();
if (typeof globalThis.gc !== 'function') console.error('note: run with --expose-gc (npm run bench:tenants does) for exact heap figures');
const redis = await redisAdmin(redisUrl);
try {
  const header = [
    ...(await describeMachine(redis, ['zod', 'yaml', '@marcbachmann/cel-js', '@modelcontextprotocol/sdk', 'hono', '@hono/node-server', 'ioredis'])),
    `settings: tenants ${counts.join(', ')}; ${startupRounds} start-ups each; tools/call at ${fewest} and ${most} tenants, ${concurrency} in flight over ${sessionCount} sessions, ` +
      `${primeSeconds} s unmeasured, then ${warmupSeconds} s + ${seconds} s per round, ${rounds} rounds; echo text of ${textBytes} bytes; ` +
      `admin API up to ${adminCounts.join(', ')} tenants; one service client per tenant at ${clientCounts.join(', ')}; ` +
      'each gateway in a child process with --expose-gc, the load generator in the parent',
  ];
  console.error(header.join('\n'));
  if (runs('config') || runs('policy')) {
    console.error('configuration, in-process');
    for (const n of counts) benchConfigLoad(n);
  }
  if (runs('policy')) {
    console.error('policy decisions, in-process');
    benchDecisions();
  }
  compiled.clear();
  if (runs('startup') || runs('throughput')) {
    console.error('start-up and memory');
    for (const n of counts) await benchStartup(n, runs('throughput') && (n === fewest || n === most));
    if (profileDir !== undefined) await profileStartup(most);
  }
  if (runs('throughput')) {
    console.error('tools/call');
    await benchThroughput();
  }
  for (const target of kept.values()) await target.close();
  kept.clear();
  if (runs('admin') && adminCounts.length > 0) {
    console.error('tenants through the admin API, Redis');
    await benchAdmin(redis);
  }
  if (runs('clients') && clientCounts.length > 0) {
    console.error('one service client per tenant, in-process');
    for (const n of clientCounts) benchClientsPerTenant(n);
  }
  header.push(
    `load average (1 min): ${loadAtStart} at the start, at most ${highestLoad.toFixed(2)} after a step, ${loadavg()[0]!.toFixed(2)} at the end; ` +
      `the run took ${((performance.now() - began) / 60_000).toFixed(1)} min`,
  );
  console.log([...header.map((line) => `- ${line}`), '', ...tables(), ...problems.map((problem) => `- FAILED: ${problem}`)].join('\n'));
  if (problems.length > 0) process.exitCode = 1;
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  for (const target of kept.values()) await target.close();
  const removed = await removeBenchKeys(redis, options.redisKeyPrefix);
  console.error(`removed ${removed} Redis keys under ${options.redisKeyPrefix}`);
  await redis.quit();
  await rm(tempDir, { recursive: true, force: true });
}
