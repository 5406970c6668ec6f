import { Agent, request } from 'node:http';

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
}

export interface MeasureOptions {
  /** Operations kept in flight (a closed loop: each worker starts the next when the last one ends). */
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /**
   * Reads the CPU time of the process doing the work (the server's, not the load generator's), sampled when the
   * window opens and closes. CPU per operation is steadier than throughput on a machine shared with other work.
   */
  cpuUsage?: () => Promise<NodeJS.CpuUsage>;
}

/**
 * Runs `operation` with `concurrency` in flight for a warm-up and then a measured window, both bounded by time.
 * Counted are the operations that complete inside the window; an operation that resolves to a string failed,
 * and the string says why.
 */
export async function measure(operation: () => Promise<string | undefined>, options: MeasureOptions): Promise<Measurement> {
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  const start = performance.now();
  const windowStart = start + options.warmupMs;
  const windowEnd = windowStart + options.durationMs;
  const sample = (atMs: number) =>
    options.cpuUsage === undefined
      ? Promise.resolve(undefined)
      : new Promise<NodeJS.CpuUsage>((resolve, reject) => setTimeout(() => options.cpuUsage!().then(resolve, reject), atMs));
  const cpuAtStart = sample(options.warmupMs);
  const cpuAtEnd = sample(options.warmupMs + options.durationMs);

  async function worker(): Promise<void> {
    while (performance.now() < windowEnd) {
      const began = performance.now();
      let failure: string | undefined;
      try {
        failure = await operation();
      } catch (error) {
        failure = error instanceof Error ? error.message : String(error);
      }
      const ended = performance.now();
      if (ended < windowStart || ended > windowEnd) continue;
      if (failure === undefined) {
        latencies.push(ended - began);
      } else {
        failures++;
        firstFailure ??= failure;
      }
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
  const [cpuStart, cpuEnd] = await Promise.all([cpuAtStart, cpuAtEnd]);

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
    ...(cpuStart !== undefined &&
      cpuEnd !== undefined &&
      latencies.length > 0 && { cpuMicrosPerOp: (cpuEnd.user + cpuEnd.system - cpuStart.user - cpuStart.system) / latencies.length }),
  };
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
