import { Redis } from 'ioredis';
import { canonicalJson } from './canonical-json.js';
import type { Bus } from './bus.js';
import { RATE_KEY_GRACE_MS, type Admission, type Limit, type Store } from './store.js';

/**
 * KEYS[1] key; ARGV[1] canonical JSON of the expected value; ARGV[2] canonical JSON of the next value;
 * ARGV[3] TTL in seconds, '0' for none. Byte comparison is valid because every value is written canonically.
 */
const COMPARE_AND_SET = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
end
return 1
`;

/**
 * KEYS[1] key; ARGV[1] amount; ARGV[2] TTL in seconds. TTL -1 means "exists without expiry", which after INCRBY
 * is a key this call created; an existing window keeps its TTL, so fixed windows are never extended.
 */
const INCREMENT = `
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) == -1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return value
`;

/**
 * KEYS: one per limit; ARGV[1]: the limits as a JSON array (kind and numbers, same order); ARGV[2]: now, epoch ms;
 * ARGV[3]: how long a bucket's key outlives its refill (RATE_KEY_GRACE_MS).
 * Decides every limit before writing any (all-or-nothing); returns {1, -1, 0, remaining...} or {0, index, retryAfterMs}.
 */
const ADMIT = `
local limits = cjson.decode(ARGV[1])
local now = tonumber(ARGV[2])
-- Keys expire after a time measured from the caller's now, not at an instant of its clock: a replica whose clock
-- is behind the server's must not see a bucket or window vanish early (and admit more than the limit).
local function ttl(at) return math.max(1, math.ceil(at - now)) end
local remaining = {}
local next = {}
for i, limit in ipairs(limits) do
  local key = KEYS[i]
  if limit.kind == 'window' then
    local used = tonumber(redis.call('GET', key) or '0')
    if used + limit.cost > limit.limit then return {0, i - 1, math.max(0, limit.resetAt - now)} end
    remaining[i] = limit.limit - used - limit.cost
  elseif limit.kind == 'rate' then
    local tat = tonumber(redis.call('GET', key) or now)
    if tat < now then tat = now end
    local tolerance = limit.burst * limit.intervalMs
    local after = tat - now + limit.cost * limit.intervalMs
    if after - tolerance > 0.01 then return {0, i - 1, math.ceil(after - tolerance)} end
    next[i] = now + after
    remaining[i] = math.floor((tolerance - after) / limit.intervalMs + 1e-9)
  else
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
    local held = redis.call('ZCARD', key)
    if held + 1 > limit.limit then
      local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
      return {0, i - 1, math.max(0, tonumber(first[2]) - now)}
    end
    remaining[i] = limit.limit - held - 1
  end
end
for i, limit in ipairs(limits) do
  local key = KEYS[i]
  if limit.kind == 'window' then
    if redis.call('INCRBY', key, limit.cost) == limit.cost then redis.call('PEXPIRE', key, ttl(limit.resetAt)) end
  elseif limit.kind == 'rate' then
    -- Fractional milliseconds at full precision, so rates whose interval is not whole keep their pace.
    redis.call('SET', key, string.format('%.17g', next[i]), 'PX', ttl(next[i]) + tonumber(ARGV[3]))
  else
    redis.call('ZADD', key, limit.expiresAt, limit.lease)
    if redis.call('PTTL', key) < ttl(limit.expiresAt) then redis.call('PEXPIRE', key, ttl(limit.expiresAt)) end
  end
end
local reply = {1, -1, 0}
for i = 1, #limits do reply[i + 3] = remaining[i] end
return reply
`;

interface ScriptedRedis extends Redis {
  portcullisCompareAndSet(key: string, expected: string, next: string, ttlSeconds: number): Promise<number>;
  portcullisIncrement(key: string, by: number, ttlSeconds: number): Promise<number>;
  portcullisAdmit(numberOfKeys: number, ...args: string[]): Promise<number[]>;
}

/** Options of {@link RedisStore}: a URL to connect to, or a client the caller owns. */
export type RedisStoreOptions =
  | { url: string; keyPrefix?: string }
  | { client: Redis; keyPrefix?: string };

/**
 * The {@link Store} for more than one gateway instance. Each operation is one round trip and atomic on the server:
 * take is GETDEL, compareAndSet and increment are Lua scripts (EVALSHA through ioredis `defineCommand`), and
 * compareAndSet with `expected === undefined` is SET NX. Values are canonical JSON strings (see
 * {@link canonicalJson}). Needs Redis 6.2+ (GETDEL).
 *
 * Errors propagate so the gateway fails closed: a client made from `url` gives up on a command after one
 * reconnection attempt or two seconds, instead of queueing it until Redis returns.
 *
 * `keyPrefix` (default `portcullis:`) namespaces every key, so several deployments or test runs can share a Redis.
 */
export class RedisStore implements Store, Bus {
  readonly #redis: ScriptedRedis;
  readonly #prefix: string;
  readonly #ownsClient: boolean;
  /** A connection in subscriber mode (Redis allows no other commands on it), opened on the first subscribe. */
  #subscriber: Redis | undefined;
  readonly #handlers = new Map<string, Set<(message: string) => void>>();

  constructor(options: RedisStoreOptions) {
    this.#prefix = options.keyPrefix ?? 'portcullis:';
    this.#ownsClient = 'url' in options;
    const redis =
      'url' in options
        ? new Redis(options.url, { maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 2000 })
        : options.client;
    if (this.#ownsClient) {
      // Failed commands already reject with the cause; without a listener ioredis would also print every
      // reconnection attempt to stderr.
      redis.on('error', () => {});
    }
    redis.defineCommand('portcullisCompareAndSet', { lua: COMPARE_AND_SET, numberOfKeys: 1 });
    redis.defineCommand('portcullisIncrement', { lua: INCREMENT, numberOfKeys: 1 });
    redis.defineCommand('portcullisAdmit', { lua: ADMIT });
    this.#redis = redis as ScriptedRedis;
  }

  async get<T>(key: string): Promise<T | undefined> {
    return parse<T>(await this.#redis.get(this.#key(key)));
  }

  async set<T>(key: string, value: T, ttlSeconds?: number): Promise<void> {
    const json = canonicalJson(value);
    if (ttlSeconds === undefined) await this.#redis.set(this.#key(key), json);
    else await this.#redis.set(this.#key(key), json, 'EX', ttl(ttlSeconds));
  }

  async delete(key: string): Promise<void> {
    await this.#redis.del(this.#key(key));
  }

  async take<T>(key: string): Promise<T | undefined> {
    return parse<T>(await this.#redis.getdel(this.#key(key)));
  }

  async compareAndSet<T>(key: string, expected: T | undefined, next: T, ttlSeconds?: number): Promise<boolean> {
    const json = canonicalJson(next);
    const seconds = ttlSeconds === undefined ? 0 : ttl(ttlSeconds);
    if (expected === undefined) {
      const reply =
        seconds === 0
          ? await this.#redis.set(this.#key(key), json, 'NX')
          : await this.#redis.set(this.#key(key), json, 'EX', seconds, 'NX');
      return reply === 'OK';
    }
    return (await this.#redis.portcullisCompareAndSet(this.#key(key), canonicalJson(expected), json, seconds)) === 1;
  }

  async increment(key: string, by: number, ttlSeconds: number): Promise<number> {
    if (!Number.isSafeInteger(by)) throw new RangeError(`increment must be an integer, got ${by}`);
    return this.#redis.portcullisIncrement(this.#key(key), by, ttl(ttlSeconds));
  }

  /** One round trip: a Lua script reads every limit, then writes all of them or none. */
  async admit(limits: readonly Limit[], now: number): Promise<Admission> {
    if (limits.length === 0) return { admitted: true, remaining: [] };
    // Redis takes whole milliseconds for expiry times.
    const described = limits.map(({ key: _key, ...limit }) =>
      limit.kind === 'window' ? { ...limit, resetAt: Math.ceil(limit.resetAt) } : limit.kind === 'concurrency' ? { ...limit, expiresAt: Math.ceil(limit.expiresAt) } : limit,
    );
    const reply = await this.#redis.portcullisAdmit(limits.length, ...limits.map((limit) => this.#key(limit.key)), JSON.stringify(described), String(now), String(RATE_KEY_GRACE_MS));
    const [admitted, refused, retryAfterMs, ...remaining] = reply.map(Number);
    return admitted === 1 ? { admitted: true, remaining } : { admitted: false, refused: refused!, retryAfterMs: retryAfterMs! };
  }

  async release(key: string, lease: string): Promise<void> {
    await this.#redis.zrem(this.#key(key), lease);
  }

  async publish(channel: string, message: string): Promise<number> {
    return this.#redis.publish(this.#key(channel), message);
  }

  /**
   * Subscribes on a second connection of this store's. That connection retries forever and ioredis subscribes it
   * again after every reconnection, so a replica keeps hearing its channels across a Redis restart.
   */
  async subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>> {
    const subscriber = this.#subscriber ?? this.#openSubscriber();
    const key = this.#key(channel);
    let handlers = this.#handlers.get(key);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(key, handlers);
      await subscriber.subscribe(key);
    }
    handlers.add(onMessage);
    return async () => {
      handlers.delete(onMessage);
      if (handlers.size > 0 || this.#handlers.get(key) !== handlers) return;
      this.#handlers.delete(key);
      if (subscriber.status === 'ready') await subscriber.unsubscribe(key);
    };
  }

  #openSubscriber(): Redis {
    const subscriber = this.#redis.duplicate({ maxRetriesPerRequest: null, commandTimeout: undefined, autoResubscribe: true });
    subscriber.on('error', () => {});
    subscriber.on('message', (channel: string, message: string) => {
      for (const handler of this.#handlers.get(channel) ?? []) handler(message);
    });
    this.#subscriber = subscriber;
    return subscriber;
  }

  /** Quits the connections this store opened; a client passed in stays open for its owner to close. */
  async close(): Promise<void> {
    this.#subscriber?.disconnect();
    this.#subscriber = undefined;
    this.#handlers.clear();
    if (!this.#ownsClient) return;
    // QUIT waits for pending replies, but it needs a connection; without one there is nothing to wait for.
    if (this.#redis.status === 'ready') await this.#redis.quit();
    else this.#redis.disconnect();
  }

  #key(key: string): string {
    return this.#prefix + key;
  }
}

function parse<T>(json: string | null): T | undefined {
  return json === null ? undefined : (JSON.parse(json) as T);
}

// Redis rejects a zero or fractional EX, and EXPIRE 0 inside the script would delete the key: refuse them here.
function ttl(ttlSeconds: number): number {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new RangeError(`ttlSeconds must be a positive integer, got ${ttlSeconds}`);
  }
  return ttlSeconds;
}
