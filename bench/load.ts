import { Agent, request } from 'node:http';

/** A number from the environment variable `BENCH_<name>`, or `fallback`. */
export const knob = (name: string, fallback: number): number => Number(process.env[`BENCH_${name}`] ?? fallback);

/** The load of the tools/call benchmarks, each knob from `BENCH_<NAME>` (defaults shown in each benchmark's header). */
export function callLoad(defaults: { textBytes?: number } = {}) {
  return {
    seconds: knob('SECONDS', 5),
    // The fixed-rate window is longer: at a moderate rate, 5 s hold too few calls for a steady p99.
    rateSeconds: knob('RATE_SECONDS', 10),
    warmupSeconds: knob('WARMUP_SECONDS', 1),
    concurrency: knob('CONCURRENCY', 32),
    sessionCount: knob('SESSIONS', 4),
    // What the slowest variant of bench:tools (the gateway in front of the HTTP upstream) sustains comfortably on 2
    // shared cores.
    rate: knob('RATE', 50),
    textBytes: knob('TEXT_BYTES', defaults.textBytes ?? 100),
  };
}

/** One measured figure: completions per second over the window and the latency of those completions. */
export interface Measurement {
  completed: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
  firstFailure?: string;
  /** CPU time (user + system, every thread) the measured process spent per completed operation, in µs. */
  cpuMicrosPerOp?: number;
  /** The same for each process named in {@link MeasureOptions.otherCpu}. */
  otherCpuMicrosPerOp?: Record<string, number>;
}

/** Reads the CPU time of one process: `process.cpuUsage()` of this or a child process, or `/proc` for another. */
export type CpuProbe = () => Promise<NodeJS.CpuUsage>;

export interface MeasureOptions {
  /** Operations kept in flight (a closed loop: each worker starts the next when the last one ends). */
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /**
   * Reads the CPU time of the process doing the work (the server's, not the load generator's), sampled when the
   * window opens and closes. CPU per operation is steadier than throughput on a machine shared with other work.
   */
  cpuUsage?: CpuProbe;
  /** More processes whose CPU per operation is reported, by name (an upstream, a proxy, the load generator). */
  otherCpu?: Readonly<Record<string, CpuProbe>>;
}

/** An open loop: operations start at a fixed rate whether or not earlier ones have ended. */
export interface RateOptions extends Omit<MeasureOptions, 'concurrency'> {
  ratePerSecond: number;
  /** An operation due while this many are in flight is not started and counts as a failure (the target fell behind). */
  maxInFlight: number;
}

/**
 * Runs `operation` with `concurrency` in flight for a warm-up and then a measured window, both bounded by time.
 * Counted are the operations that complete inside the window; an operation that resolves to a string failed,
 * and the string says why.
 */
export async function measure(operation: () => Promise<string | undefined>, options: MeasureOptions): Promise<Measurement> {
  const window = openWindow(options);
  async function worker(): Promise<void> {
    while (performance.now() < window.end) {
      const began = performance.now();
      const failure = await attempt(operation);
      const ended = performance.now();
      if (ended >= window.start && ended <= window.end) window.record(ended - began, failure);
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
  return window.close();
}

/**
 * Starts `operation` at `ratePerSecond`, evenly spaced, for a warm-up and then a measured window. Counted are the
 * operations *due* inside the window, each with its latency from the moment it was due, so a target (or a load
 * generator) that falls behind shows it in the latency instead of quietly sending less (no coordinated omission).
 * Operations still running when the window closes are awaited and counted; CPU per operation divides the CPU time
 * of the window by the operations due in it.
 */
export async function measureRate(operation: () => Promise<string | undefined>, options: RateOptions): Promise<Measurement> {
  const window = openWindow(options);
  const intervalMs = 1000 / options.ratePerSecond;
  const running = new Set<Promise<void>>();
  for (let n = 0; ; n++) {
    const due = window.opened + n * intervalMs;
    if (due >= window.end) break;
    // Timers have millisecond granularity; an operation sent up to 1 ms early is timed from when it was sent.
    const wait = due - performance.now();
    if (wait >= 1) await new Promise((resolve) => setTimeout(resolve, Math.floor(wait)));
    const counted = due >= window.start;
    if (running.size >= options.maxInFlight) {
      if (counted) window.record(0, `fell behind: ${options.maxInFlight} operations in flight`);
      continue;
    }
    const from = Math.max(due, performance.now());
    const run: Promise<void> = attempt(operation).then((failure) => {
      running.delete(run);
      if (counted) window.record(performance.now() - from, failure);
    });
    running.add(run);
  }
  await Promise.all(running);
  return window.close();
}

async function attempt(operation: () => Promise<string | undefined>): Promise<string | undefined> {
  try {
    return await operation();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * The bookkeeping both loops share: the window's bounds, the latencies and failures recorded in it, and the CPU
 * time of each probed process sampled when the window opens and closes.
 */
function openWindow(options: Omit<MeasureOptions, 'concurrency'>) {
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  const opened = performance.now();
  const start = opened + options.warmupMs;
  const end = start + options.durationMs;
  const others = Object.entries(options.otherCpu ?? {});
  const sampleAll = async () => ({
    main: await options.cpuUsage?.(),
    others: await Promise.all(others.map(([, probe]) => probe())),
  });
  const sample = (atMs: number) => new Promise<Awaited<ReturnType<typeof sampleAll>>>((resolve, reject) => setTimeout(() => sampleAll().then(resolve, reject), atMs));
  const cpuAtStart = sample(options.warmupMs);
  const cpuAtEnd = sample(options.warmupMs + options.durationMs);
  return {
    opened,
    start,
    end,
    record(latencyMs: number, failure: string | undefined): void {
      if (failure === undefined) {
        latencies.push(latencyMs);
      } else {
        failures++;
        firstFailure ??= failure;
      }
    },
    async close(): Promise<Measurement> {
      const [cpuStart, cpuEnd] = await Promise.all([cpuAtStart, cpuAtEnd]);
      const operations = latencies.length;
      const perOp = (before: NodeJS.CpuUsage, after: NodeJS.CpuUsage) => (after.user + after.system - before.user - before.system) / operations;
      latencies.sort((a, b) => a - b);
      const seconds = options.durationMs / 1000;
      return {
        completed: latencies.length,
        seconds,
        perSecond: latencies.length / seconds,
        p50Ms: percentile(latencies, 0.5),
        p99Ms: percentile(latencies, 0.99),
        failures,
        ...(firstFailure !== undefined && { firstFailure }),
        ...(cpuStart.main !== undefined && cpuEnd.main !== undefined && operations > 0 && { cpuMicrosPerOp: perOp(cpuStart.main, cpuEnd.main) }),
        ...(others.length > 0 &&
          operations > 0 && { otherCpuMicrosPerOp: Object.fromEntries(others.map(([name], i) => [name, perOp(cpuStart.others[i]!, cpuEnd.others[i]!)])) }),
      };
    },
  };
}

/** A figure for a results table: empty when missing (undefined or NaN). */
export const num = (value: number | undefined, digits = 0): string => (value === undefined || Number.isNaN(value) ? '' : value.toFixed(digits));

/** A difference for a results table, with its sign: empty when missing. */
export const signed = (value: number, digits = 0): string => (Number.isNaN(value) ? '' : `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`);

/** The median of the values that are numbers (NaN marks a missing figure); NaN when there are none. */
export function median(values: readonly number[]): number {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const half = sorted.length / 2;
  return Number.isInteger(half) ? (sorted[half - 1]! + sorted[half]!) / 2 : sorted[Math.floor(half)]!;
}

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

export interface HttpResponse {
  status: number;
  body: string;
}

/** A keep-alive HTTP/1.1 client for one origin, with one socket per operation in flight. */
export class HttpClient {
  readonly #agent: Agent;
  readonly #host: string;
  readonly #port: number;

  constructor(origin: string, sockets: number) {
    const url = new URL(origin);
    this.#host = url.hostname;
    this.#port = Number(url.port);
    this.#agent = new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  post(path: string, headers: Record<string, string>, body: string): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const outgoing = request(
        { host: this.#host, port: this.#port, path, method: 'POST', agent: this.#agent, headers: { ...headers, 'Content-Length': Buffer.byteLength(body) } },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('error', reject);
          incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
