import type { EventStore } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { randomToken } from '../../oauth/crypto.js';
import type { Store } from '../store/store.js';

export interface EventStoreOptions {
  /** How long an event can be replayed. */
  ttlSeconds?: number;
  /** Most events one replay sends: a client that missed more starts over. */
  maxReplay?: number;
}

interface StoredEvent {
  streamId: string;
  message: JSONRPCMessage;
}

/**
 * The SSE event log of one MCP session, in the Store, for resumption with `Last-Event-ID` (MCP 2025-11-25
 * transports §resumability). Event ids are `<stream>.<n>`, numbered per stream, so a replay sends exactly the
 * events of that stream after the one named. Keys carry a random per-session namespace, so an event id from
 * another session names nothing here.
 */
export class StoreEventStore implements EventStore {
  readonly #store: Store;
  readonly #namespace = randomToken(12);
  readonly #ttl: number;
  readonly #maxReplay: number;

  constructor(store: Store, options: EventStoreOptions = {}) {
    this.#store = store;
    this.#ttl = options.ttlSeconds ?? 300;
    this.#maxReplay = options.maxReplay ?? 1000;
  }

  #seqKey(streamId: string): string {
    return `mcp-events:${this.#namespace}:${streamId}:seq`;
  }

  #eventKey(eventId: string): string {
    return `mcp-events:${this.#namespace}:${eventId}`;
  }

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const n = await this.#store.increment(this.#seqKey(streamId), 1, this.#ttl);
    const eventId = `${streamId}.${n}`;
    await this.#store.set<StoredEvent>(this.#eventKey(eventId), { streamId, message }, this.#ttl);
    return eventId;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return (await this.#store.get<StoredEvent>(this.#eventKey(eventId)))?.streamId;
  }

  async replayEventsAfter(lastEventId: string, { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> }): Promise<string> {
    const known = await this.#store.get<StoredEvent>(this.#eventKey(lastEventId));
    const dot = lastEventId.lastIndexOf('.');
    const after = Number(lastEventId.slice(dot + 1));
    if (!known || dot < 0 || !Number.isSafeInteger(after)) throw new Error('unknown event id');
    const last = (await this.#store.get<number>(this.#seqKey(known.streamId))) ?? after;
    for (let n = Math.max(after + 1, last - this.#maxReplay + 1); n <= last; n++) {
      const eventId = `${known.streamId}.${n}`;
      const event = await this.#store.get<StoredEvent>(this.#eventKey(eventId));
      if (event) await send(eventId, event.message);
    }
    return known.streamId;
  }
}
