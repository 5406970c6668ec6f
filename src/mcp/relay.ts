import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { randomToken } from '../../oauth/crypto.js';
import type { Logger } from '../../oauth/types.js';
import type { Bus } from '../store/bus.js';

/** A request for a session that another replica holds: what the owner needs to serve it. */
export interface RelayedRequest {
  sessionId: string;
  authInfo: AuthInfo;
  method: string;
  url: string;
  headers: [string, string][];
  body?: string;
}

/** The messages replicas exchange on their channels: a request one way, its response streamed back. */
type Wire =
  | ({ type: 'request'; id: string; replyTo: string } & RelayedRequest)
  | { type: 'cancel'; id: string }
  | { type: 'head'; id: string; status: number; headers: [string, string][] }
  | { type: 'data'; id: string; text: string }
  | { type: 'end'; id: string };

/** A relayed request this replica waits on: the response head, then its body as it streams. */
interface Pending {
  owner: string;
  head: (head: { status: number; headers: [string, string][] } | undefined) => void;
  body: ReadableStreamDefaultController<Uint8Array>;
  watchdog: ReturnType<typeof setTimeout>;
}

export interface SessionRelayOptions {
  bus: Bus;
  /** Serves a request relayed to this replica, which holds the session. */
  serve: (request: RelayedRequest) => Promise<Response>;
  logger: Logger;
  /**
   * How long a relayed exchange may go without a message from the other side before it is given up. An SSE
   * stream carries keep-alive comments, so a silent owner is a dead one once this is a few keep-alive intervals.
   */
  silenceMs: number;
}

// Response headers that describe the owner's connection, not the message.
const CONNECTION_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

const encoder = new TextEncoder();

function channel(replica: string): string {
  return `mcp-replica:${replica}`;
}

/**
 * Carries HTTP exchanges of MCP sessions between replicas over the {@link Bus}, so that a load balancer without
 * sticky sessions can send any request to any replica. The replica that handled `initialize` owns the session
 * (its SDK server, its upstream sessions); another replica that receives a request for it verifies the bearer
 * token itself, then relays the request here and streams the owner's response back chunk by chunk: JSON answers,
 * SSE streams with progress and upstream requests, and the GET stream alike.
 */
export class SessionRelay {
  /** This replica's name on the bus; session records name their owner by it. */
  readonly replica = randomToken(12);
  readonly #o: SessionRelayOptions;
  readonly #pending = new Map<string, Pending>();
  /** Response bodies this replica streams to another, by exchange id, so a cancel can stop them. */
  readonly #serving = new Map<string, ReadableStreamDefaultReader<Uint8Array>>();
  #unsubscribe: (() => Promise<void>) | undefined;

  constructor(options: SessionRelayOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    this.#unsubscribe = await this.#o.bus.subscribe(channel(this.replica), (message) => this.#receive(message));
  }

  async stop(): Promise<void> {
    await this.#unsubscribe?.();
    for (const reader of this.#serving.values()) void reader.cancel().catch(() => undefined);
    for (const [id, pending] of this.#pending) this.#settle(id, pending);
  }

  /**
   * Sends a request to the replica that owns its session and resolves with that replica's response, streamed.
   * Resolves `undefined` when the owner no longer listens (it stopped or died): the session is gone with it.
   */
  async forward(owner: string, request: RelayedRequest): Promise<Response | undefined> {
    const id = randomToken(12);
    let resolveHead!: Pending['head'];
    const head = new Promise<Parameters<Pending['head']>[0]>((resolve) => {
      resolveHead = resolve;
    });
    // The body exists before the request is sent: several replies can arrive in one read from the bus, before the
    // code awaiting the head runs again, and their chunks must already have a queue to go to.
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#pending.set(id, { owner, head: resolveHead, body: controller, watchdog: this.#watch(id) });
      },
      // The client went away: the owner stops streaming (and the SDK frees the stream, e.g. the one GET stream).
      cancel: () => {
        const pending = this.#pending.get(id);
        if (!pending) return;
        this.#settle(id, pending);
        void this.#publish(owner, { type: 'cancel', id }).catch(() => undefined);
      },
    });
    let heard: number;
    try {
      heard = await this.#publish(owner, { type: 'request', id, replyTo: this.replica, ...request });
    } catch (error) {
      this.#drop(id);
      throw error;
    }
    if (heard === 0) {
      this.#drop(id);
      return undefined;
    }
    const received = await head;
    if (!received) return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'the replica that holds this session did not answer; try again' }, id: null }), { status: 503, headers: { 'content-type': 'application/json' } });
    if (received.status === 202 || received.status === 204) {
      this.#drop(id);
      return new Response(null, { status: received.status, headers: received.headers });
    }
    return new Response(body, { status: received.status, headers: received.headers });
  }

  #drop(id: string): void {
    const pending = this.#pending.get(id);
    if (pending) this.#settle(id, pending);
  }

  #watch(id: string): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      const pending = this.#pending.get(id);
      if (!pending) return;
      this.#o.logger.warn({ owner: pending.owner }, 'a relayed MCP exchange went silent; giving it up');
      this.#settle(id, pending);
      void this.#publish(pending.owner, { type: 'cancel', id }).catch(() => undefined);
    }, this.#o.silenceMs);
    // On Node the timer alone must not keep the process alive (a Worker's timers are numbers, without unref).
    (timer as { unref?: () => void }).unref?.();
    return timer;
  }

  /** Ends a pending exchange: an unanswered head resolves empty; a body in progress closes. */
  #settle(id: string, pending: Pending): void {
    clearTimeout(pending.watchdog);
    this.#pending.delete(id);
    pending.head(undefined);
    try {
      // A client whose stream ends early resumes it with Last-Event-ID, which is why closing beats erroring here.
      pending.body.close();
    } catch {
      // The client had already cancelled the stream.
    }
  }

  async #publish(replica: string, message: Wire): Promise<number> {
    return this.#o.bus.publish(channel(replica), JSON.stringify(message));
  }

  #receive(raw: string): void {
    let message: Wire;
    try {
      message = JSON.parse(raw) as Wire;
    } catch {
      this.#o.logger.warn({}, 'ignored a relay message that is not JSON');
      return;
    }
    switch (message.type) {
      case 'request':
        void this.#serve(message);
        return;
      case 'cancel':
        void this.#serving.get(message.id)?.cancel().catch(() => undefined);
        this.#serving.delete(message.id);
        return;
      default:
        this.#reply(message);
    }
  }

  /** Owner side: serves a relayed request and streams its response back, until the other replica stops listening. */
  async #serve(message: Extract<Wire, { type: 'request' }>): Promise<void> {
    const { id, replyTo, type: _type, ...request } = message;
    let response: Response;
    try {
      response = await this.#o.serve(request);
    } catch (error) {
      this.#o.logger.error({ err: error }, 'serving a relayed MCP request failed');
      response = new Response(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null }), { status: 500, headers: { 'content-type': 'application/json' } });
    }
    const headers = [...response.headers].filter(([name]) => !CONNECTION_HEADERS.has(name));
    try {
      if ((await this.#publish(replyTo, { type: 'head', id, status: response.status, headers })) === 0 || !response.body) {
        await response.body?.cancel();
        return;
      }
      const reader = response.body.getReader();
      this.#serving.set(id, reader);
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        // Nobody listens any more (the other replica stopped): stop producing, which frees the stream here.
        if ((await this.#publish(replyTo, { type: 'data', id, text: decoder.decode(value, { stream: true }) })) === 0) {
          await reader.cancel();
          return;
        }
      }
      await this.#publish(replyTo, { type: 'end', id });
    } catch (error) {
      this.#o.logger.warn({ err: error }, 'streaming a relayed MCP response failed');
    } finally {
      this.#serving.delete(id);
    }
  }

  /** Edge side: a part of the response to a request this replica relayed. */
  #reply(message: Exclude<Wire, { type: 'request' | 'cancel' }>): void {
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    clearTimeout(pending.watchdog);
    pending.watchdog = this.#watch(message.id);
    if (message.type === 'head') pending.head({ status: message.status, headers: message.headers });
    else if (message.type === 'data') pending.body.enqueue(encoder.encode(message.text));
    else this.#settle(message.id, pending);
  }
}
