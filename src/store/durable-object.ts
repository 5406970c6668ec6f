import { DurableObject } from 'cloudflare:workers';
import { canonicalJson } from './canonical-json.js';
import { MemoryStore, type Entry } from './memory.js';
import type { Admission, Limit, Store } from './store.js';

/**
 * The Durable Object behind {@link DurableObjectStore}: one object per key, named by the key, so load spreads over as
 * many objects as there are keys and no tenant is a hot spot. A Durable Object runs one event at a time and its
 * storage calls hold back other events while they are pending, so each operation of the {@link MemoryStore} inside
 * is atomic; the store's journal copies every change into the object's storage, and the object's output gate
 * delays each answer until that copy is durable. An alarm at the earliest expiry reclaims expired keys.
 */
export class StoreObject extends DurableObject<unknown> {
  readonly #store: MemoryStore;
  /** The alarm this object last asked for, so that writes do not ask again for the same one. */
  #alarm: number | null = null;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    this.#store = new MemoryStore({
      journal: (key, entry) => void (entry === undefined ? ctx.storage.delete(key) : ctx.storage.put(key, entry)),
    });
    void ctx.blockConcurrencyWhile(async () => {
      this.#store.restore(await ctx.storage.list<Entry>());
      this.#alarm = await ctx.storage.getAlarm();
    });
  }

  // A read may drop the key it finds expired, so it counts as a change too.
  get(key: string): Promise<unknown> {
    return this.#changed(this.#store.get(key));
  }

  set(key: string, json: string, ttlSeconds?: number): Promise<void> {
    return this.#changed(this.#store.set(key, JSON.parse(json), ttlSeconds));
  }

  delete(key: string): Promise<void> {
    return this.#changed(this.#store.delete(key));
  }

  take(key: string): Promise<unknown> {
    return this.#changed(this.#store.take(key));
  }

  compareAndSet(key: string, expectedJson: string | undefined, nextJson: string, ttlSeconds?: number): Promise<boolean> {
    const expected: unknown = expectedJson === undefined ? undefined : JSON.parse(expectedJson);
    return this.#changed(this.#store.compareAndSet(key, expected, JSON.parse(nextJson), ttlSeconds));
  }

  increment(key: string, by: number, ttlSeconds: number): Promise<number> {
    return this.#changed(this.#store.increment(key, by, ttlSeconds));
  }

  admit(limits: Limit[], now: number): Promise<Admission> {
    return this.#changed(this.#store.admit(limits, now));
  }

  refund(limits: Limit[], elapsedMs: number): Promise<void> {
    return this.#changed(this.#store.refund(limits, elapsedMs));
  }

  release(key: string, lease: string): Promise<void> {
    return this.#changed(this.#store.release(key, lease));
  }

  override async alarm(): Promise<void> {
    this.#alarm = null;
    this.#store.reclaim();
    if (this.#store.size === 0) await this.ctx.storage.deleteAll();
    else this.#schedule();
  }

  async #changed<T>(operation: Promise<T>): Promise<T> {
    try {
      return await operation;
    } finally {
      this.#schedule();
    }
  }

  /** Keeps one alarm at the earliest expiry; the storage calls need no await (the output gate waits for them). */
  #schedule(): void {
    const next = this.#store.nextExpiry() ?? null;
    if (next === this.#alarm) return;
    this.#alarm = next;
    void (next === null ? this.ctx.storage.deleteAlarm() : this.ctx.storage.setAlarm(next));
  }
}

/**
 * The {@link Store} of the Workers runtime, over the {@link StoreObject} namespace: each key lives in its own Durable
 * Object, which makes every single-key operation atomic and strongly consistent (KV is neither).
 *
 * An admission whose limits live in several objects asks them all at once and gives back what the admitting ones
 * took when another refused (or failed). The end state is all-or-nothing, as the contract requires; in between, a
 * concurrent admission may find a cost that is about to be refunded, and be refused where a single atomic step
 * would have admitted it — near a limit only, and never the other way: no limit ever admits more than it holds.
 */
export class DurableObjectStore implements Store {
  readonly #namespace: DurableObjectNamespace<StoreObject>;

  constructor(namespace: DurableObjectNamespace<StoreObject>) {
    this.#namespace = namespace;
  }

  #object(key: string): DurableObjectStub<StoreObject> {
    return this.#namespace.get(this.#namespace.idFromName(key));
  }

  async get<T>(key: string): Promise<T | undefined> {
    return (await this.#object(key).get(key)) as T | undefined;
  }

  // Values travel as canonical JSON: a value without a JSON form fails here, as it does in the other stores.
  async set<T>(key: string, value: T, ttlSeconds?: number): Promise<void> {
    await this.#object(key).set(key, canonicalJson(value), ttlSeconds);
  }

  async delete(key: string): Promise<void> {
    await this.#object(key).delete(key);
  }

  async take<T>(key: string): Promise<T | undefined> {
    return (await this.#object(key).take(key)) as T | undefined;
  }

  async compareAndSet<T>(key: string, expected: T | undefined, next: T, ttlSeconds?: number): Promise<boolean> {
    return this.#object(key).compareAndSet(key, expected === undefined ? undefined : canonicalJson(expected), canonicalJson(next), ttlSeconds);
  }

  async increment(key: string, by: number, ttlSeconds: number): Promise<number> {
    return this.#object(key).increment(key, by, ttlSeconds);
  }

  async admit(limits: readonly Limit[], now: number): Promise<Admission> {
    if (limits.length === 1) return this.#object(limits[0]!.key).admit([...limits], now);
    const began = Date.now();
    const results = await Promise.allSettled(limits.map((limit) => this.#object(limit.key).admit([limit], now)));
    const admitted = (index: number) => {
      const result = results[index]!;
      return result.status === 'fulfilled' && result.value.admitted;
    };
    if (results.every((_, index) => admitted(index))) {
      return { admitted: true, remaining: results.map((result) => (result as PromiseFulfilledResult<{ remaining: number[] }>).value.remaining[0]!) };
    }
    // A failed refund leaves a cost taken until its window, bucket or lease runs out: it errs on the side of refusing.
    const elapsedMs = Date.now() - began;
    await Promise.allSettled(limits.map((limit, index) => (admitted(index) ? this.#object(limit.key).refund([limit], elapsedMs) : undefined)));
    // A definite refusal is the answer even when another object failed: the call is refused either way, and a
    // failure would let an `onStoreDown: allow` tenant through.
    const refused = results.findIndex((result) => result.status === 'fulfilled' && !result.value.admitted);
    if (refused >= 0) return { ...(results[refused] as PromiseFulfilledResult<Admission>).value, refused } as Admission;
    throw (results.find((result) => result.status === 'rejected') as PromiseRejectedResult).reason;
  }

  async release(key: string, lease: string): Promise<void> {
    await this.#object(key).release(key, lease);
  }

  /** Nothing to release: a namespace binding holds no connection. */
  async close(): Promise<void> {}
}
