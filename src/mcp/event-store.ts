import type { EventStore } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { randomToken } from '../../oauth/crypto.js';
import type { Logger } from '../../oauth/types.js';
import type { Store } from '../store/store.js';

export interface EventStoreOptions {
  logger: Logger;
  /** How long an event can be replayed. */
  ttlSeconds?: number;
  /** Most events of the session one replay looks through: a client that missed more starts over. */
  maxReplay?: number;
}

const REPLAY_BATCH = 64;

interface StoredEvent {
  streamId: string;
  message: JSONRPCMessage;
}

/**
 * The SSE event log of one MCP session, in the Store, for resumption with `Last-Event-ID` (MCP 2025-11-25
 * transports §resumability). Event ids are `<stream>.<n>`, with `n` counted across the whole session, so a replay
 * sends exactly the events of that stream after the one named. Keys carry a random per-session namespace, so an
 * event id from another session names nothing here.
 *
 * The session lives in one process (its owner replica), so the counter lives there too, and writing an event is
 * one store write that the stream does not wait for: a replay first waits for the writes still in flight.
 */
export class StoreEventStore implements EventStore {
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #namespace = randomToken(12);
  readonly #ttl: number;
  readonly #maxReplay: number;
  #last = 0;
  readonly #writing = new Set<Promise<void>>();

  constructor(store: Store, options: EventStoreOptions) {
    this.#store = store;
    this.#logger = options.logger;
    this.#ttl = options.ttlSeconds ?? 300;
    this.#maxReplay = options.maxReplay ?? 1000;
  }

  #key(n: number): string {
    return `mcp-events:${this.#namespace}:${n}`;
  }

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const n = ++this.#last;
    const write = this.#store.set<StoredEvent>(this.#key(n), { streamId, message }, this.#ttl).then(
      () => undefined,
      (error: unknown) => this.#logger.warn({ err: error }, 'an SSE event could not be stored; a client that resumes will miss it'),
    );
    this.#writing.add(write);
    void write.finally(() => this.#writing.delete(write));
    return `${streamId}.${n}`;
  }

  /** The stream and position an event id names, if it is an event of this session still kept. */
  async #lookup(eventId: string): Promise<{ streamId: string; n: number } | undefined> {
    const dot = eventId.lastIndexOf('.');
    const n = Number(eventId.slice(dot + 1));
    if (dot < 0 || !Number.isSafeInteger(n) || n < 1 || n > this.#last) return undefined;
    await Promise.all(this.#writing);
    const event = await this.#store.get<StoredEvent>(this.#key(n));
    return event && event.streamId === eventId.slice(0, dot) ? { streamId: event.streamId, n } : undefined;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return (await this.#lookup(eventId))?.streamId;
  }

  async replayEventsAfter(lastEventId: string, { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> }): Promise<string> {
    const known = await this.#lookup(lastEventId);
    if (!known) throw new Error('unknown event id');
    const last = this.#last;
    // Read in parallel batches, send in order.
    for (let from = Math.max(known.n + 1, last - this.#maxReplay + 1); from <= last; from += REPLAY_BATCH) {
      const numbers = Array.from({ length: Math.min(REPLAY_BATCH, last - from + 1) }, (_, index) => from + index);
      const events = await Promise.all(numbers.map((n) => this.#store.get<StoredEvent>(this.#key(n))));
      for (const [index, event] of events.entries()) {
        if (event?.streamId === known.streamId) await send(`${known.streamId}.${numbers[index]!}`, event.message);
      }
    }
    return known.streamId;
  }
}
