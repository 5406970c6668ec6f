import { Redis } from 'ioredis';
import { canonicalJson } from './canonical-json.js';
import type { Bus } from './bus.js';
import type { Store } from './store.js';

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

interface ScriptedRedis extends Redis {
  portcullisCompareAndSet(key: string, expected: string, next: string, ttlSeconds: number): Promise<number>;
  portcullisIncrement(key: string, by: number, ttlSeconds: number): Promise<number>;
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
