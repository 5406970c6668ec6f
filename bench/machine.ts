import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { Redis } from 'ioredis';

/** A Redis connection for the benchmark's own housekeeping (version, command counts, removing its keys). */
export async function redisAdmin(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  await redis.connect();
  return redis;
}

/** Deletes every key under `prefix` (the benchmark's random one); resolves to how many there were. */
export async function removeBenchKeys(redis: Redis, prefix: string): Promise<number> {
  let removed = 0;
  let cursor = '0';
  do {
    const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = nextCursor;
    if (keys.length > 0) removed += await redis.del(...keys);
  } while (cursor !== '0');
  return removed;
}

/**
 * Commands the Redis server has executed since it started (`INFO commandstats`): all kinds together, or only
 * `command` (lower case, e.g. `evalsha`). Commands run inside a Lua script count one by one.
 */
export async function redisCommandCount(redis: Redis, command?: string): Promise<number> {
  const stats = await redis.info('commandstats');
  let total = 0;
  for (const match of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (command === undefined || match[1] === command) total += Number(match[2]);
  return total;
}

/** The pid of the Redis server (`INFO server`), for reading its CPU time from `/proc` when it runs on this machine. */
export async function redisServerPid(redis: Redis): Promise<number> {
  return Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
}

/** The machine lines of a recorded run: date, CPU, memory, Node, Redis (when given) and the versions of `packages`. */
export async function describeMachine(redis: Redis | undefined, packages: readonly string[]): Promise<string[]> {
  const redisVersion = redis === undefined ? 'not used' : (/redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown');
  const version = async (name: string) => {
    // Compiled to bench/.build/bench/*.js, three levels below the package root.
    const json = JSON.parse(await readFile(new URL(`../../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string };
    return `${name} ${json.version}`;
  };
  return [
    `date: ${new Date().toISOString()}`,
    `cpu: ${cpus()[0]?.model ?? 'unknown'}, ${availableParallelism()} logical cores (nproc)`,
    `memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `node: ${process.version}; redis: ${redisVersion}`,
    `packages: ${(await Promise.all(packages.map(version))).join(', ')}`,
  ];
}

// Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ, `getconf CLK_TCK`, the same on every Linux
// architecture Node supports).
const MICROS_PER_TICK = 10_000;

/**
 * The CPU time (user and system, every thread) of processes this benchmark did not write, such as mcp-proxy and
 * stdio upstreams, read from `/proc/<pid>/stat`; Linux only. A process that has exited counts as zero, so take
 * both samples of a window from the same live processes.
 */
export async function processCpu(pids: readonly number[]): Promise<NodeJS.CpuUsage> {
  let user = 0;
  let system = 0;
  for (const pid of pids) {
    const fields = await statFields(pid);
    if (fields === undefined) continue;
    // Fields 14 and 15 of stat(5), counted here from field 3, the first after the parenthesized name.
    user += Number(fields[11]) * MICROS_PER_TICK;
    system += Number(fields[12]) * MICROS_PER_TICK;
  }
  return { user, system };
}

/** The processes whose parent is `pid` (a gateway's or mcp-proxy's stdio upstreams), from `/proc`. */
export async function childPids(pid: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = await statFields(Number(entry));
    // Field 4 of stat(5) is the parent's pid.
    if (fields !== undefined && Number(fields[1]) === pid) children.push(Number(entry));
  }
  return children;
}

/**
 * The resident memory of a process in MiB (`VmRSS` of `/proc/<pid>/status`), or with `peak` the most it has had
 * (`VmHWM`); undefined once it has exited.
 */
export async function residentMiB(pid: number, { peak = false } = {}): Promise<number | undefined> {
  try {
    const field = peak ? 'VmHWM' : 'VmRSS';
    const kib = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib === undefined ? undefined : Number(kib) / 1024;
  } catch {
    return undefined;
  }
}

async function statFields(pid: number): Promise<string[] | undefined> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The name (field 2) may contain spaces and parentheses; everything after its last ')' is space-separated.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** A TCP port free on 127.0.0.1 a moment ago, for programs that must be told their port (mcp-proxy). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}
