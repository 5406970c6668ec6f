import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ClientCapabilities, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../oauth/types.js';
import type { UpstreamConfig } from '../config/schema.js';
import type { UpstreamCatalog } from './catalog.js';
import { connectUpstream, type UpstreamDeps, type UpstreamHooks } from './upstream.js';
import { sessionExpired, upstreamError, UpstreamUnavailable } from './upstream-errors.js';

/** One upstream as a downstream session sees it: connected on first use. */
export interface Upstream {
  config: UpstreamConfig;
  prefix: string;
  /** What it offers: from the catalog until this session connects, then from its own connection. */
  capabilities: ServerCapabilities;
  client?: Client | undefined;
  /** The connection being opened, which concurrent requests share. */
  connecting?: Promise<Client> | undefined;
}

/** What the SDK gives a downstream request's handler, as the pool uses it. */
export type Extra = {
  signal: AbortSignal;
  authInfo?: AuthInfo;
  _meta?: { progressToken?: string | number };
  sendNotification: (n: never) => Promise<void>;
  sendRequest: Server['request'];
  /** Closes the SSE stream of this downstream request, for the client to resume (offered from protocol 2025-11-25). */
  closeSSEStream?: () => void;
};

/** The longest the gateway waits for an upstream to confirm the end of a session (DELETE) before dropping it. */
const MAX_TERMINATE_MS = 5000;

/**
 * The upstream sessions of one downstream session: opened on first use (or at once, for an upstream the catalog does
 * not know yet), re-opened when an upstream forgot its session, and closed with the downstream session. Requests go
 * through {@link UpstreamPool.forward}, which passes timeouts, progress and cancellation through and remembers which
 * downstream request each upstream stream belongs to.
 */
export class UpstreamPool {
  readonly #upstreams: ReadonlyMap<string, Upstream>;
  readonly #clientCapabilities: ClientCapabilities;
  readonly #deps: UpstreamDeps;
  readonly #catalog: UpstreamCatalog;
  readonly #logger: Logger;
  /** Downstream requests in flight per upstream, so an upstream's own requests travel on the right stream. */
  readonly #inFlight = new Map<string, Extra[]>();
  /** Upstream sessions being re-initialized, per prefix, so concurrent requests share one attempt. */
  readonly #reconnecting = new Map<string, Promise<void>>();
  /** The downstream request whose upstream SSE stream carried each upstream's latest event id, by `<prefix> <id>`. */
  readonly #streamsByEventId = new Map<string, Extra>();
  #closed = false;
  /** Called with every upstream client this pool connects, for the session to relay what the upstream sends. */
  onConnected: (upstream: Upstream, client: Client) => void = () => undefined;

  private constructor(upstreams: readonly Upstream[], clientCapabilities: ClientCapabilities, deps: UpstreamDeps, catalog: UpstreamCatalog, logger: Logger) {
    this.#upstreams = new Map(upstreams.map((upstream) => [upstream.prefix, upstream]));
    this.#clientCapabilities = clientCapabilities;
    this.#deps = deps;
    this.#catalog = catalog;
    this.#logger = logger;
  }

  /**
   * Prepares the session's upstreams. One the catalog knows is connected on first use; one it does not know is
   * connected now, to learn what it offers; one that cannot be reached is left out (and logged), not fatal.
   */
  static async open(configs: readonly UpstreamConfig[], clientCapabilities: ClientCapabilities, deps: UpstreamDeps, catalog: UpstreamCatalog, logger: Logger): Promise<UpstreamPool> {
    // The pool exists only once every upstream answered; until then there is no downstream stream to close anyway.
    let pool: UpstreamPool | undefined;
    const prepared = await Promise.all(
      configs.map(async (config): Promise<Upstream | undefined> => {
        const prefix = config.prefix ?? config.id;
        const known = catalog.lookup(config);
        if (known === 'down') return undefined;
        if (known) return { config, prefix, capabilities: known };
        try {
          const client = await connectUpstream(config, clientCapabilities, deps, { onStreamClosedEarly: (eventId) => pool?.closeDownstreamStream(prefix, eventId) });
          const capabilities = client.getServerCapabilities() ?? {};
          catalog.learned(config, capabilities);
          return { config, prefix, capabilities, client };
        } catch (error) {
          catalog.unreachable(config);
          logger.warn({ upstream: config.id, err: error }, 'upstream unavailable; its tools are left out of this session');
          return undefined;
        }
      }),
    );
    pool = new UpstreamPool(prepared.filter((upstream) => upstream !== undefined), clientCapabilities, deps, catalog, logger);
    return pool;
  }

  get(prefix: string): Upstream | undefined {
    return this.#upstreams.get(prefix);
  }

  values(): IterableIterator<Upstream> {
    return this.#upstreams.values();
  }

  /** The latest downstream request in flight to an upstream: where that upstream's own requests go. */
  latestRequest(prefix: string): Extra | undefined {
    return this.#inFlight.get(prefix)?.at(-1);
  }

  /**
   * The upstream closed a request's stream mid-call to be polled (SEP-1699). The gateway's upstream client resumes
   * it; the gateway closes its own client's stream of the same request too, so that long calls hold no connection
   * on either side. The client resumes with Last-Event-ID and gets the rest from the event store.
   */
  closeDownstreamStream(prefix: string, eventId: string): void {
    this.#streamsByEventId.get(`${prefix} ${eventId}`)?.closeSSEStream?.();
  }

  #hooks(upstream: Upstream): UpstreamHooks {
    return { onStreamClosedEarly: (eventId) => this.closeDownstreamStream(upstream.prefix, eventId) };
  }

  /**
   * The session's client of an upstream, opening the upstream session on first use, and again after its connection
   * closed (a stdio child that exited is started anew); concurrent callers share one attempt.
   */
  async #client(upstream: Upstream): Promise<Client> {
    if (upstream.client?.transport !== undefined) return upstream.client;
    upstream.connecting ??= (async () => {
      try {
        const client = await connectUpstream(upstream.config, this.#clientCapabilities, this.#deps, this.#hooks(upstream));
        if (this.#closed) {
          await client.close();
          throw new UpstreamUnavailable();
        }
        upstream.client = client;
        upstream.capabilities = client.getServerCapabilities() ?? {};
        this.#catalog.learned(upstream.config, upstream.capabilities);
        this.onConnected(upstream, client);
        return client;
      } finally {
        upstream.connecting = undefined;
      }
    })();
    return upstream.connecting;
  }

  /**
   * Runs a request against one upstream on behalf of a downstream request: timeout, progress and cancellation pass
   * through. Without a downstream request (the gateway's own lookups), only the timeouts apply.
   */
  async forward<T>(upstream: Upstream, extra: Extra | undefined, call: (client: Client, options: RequestOptions) => Promise<T>): Promise<T> {
    const progressToken = extra?._meta?.progressToken;
    let lastEvent: string | undefined;
    const options: RequestOptions = {
      timeout: upstream.config.timeoutMs,
      maxTotalTimeout: upstream.config.maxTotalTimeoutMs,
      resetTimeoutOnProgress: true,
      // Progress is always asked of the upstream, so that a long call which reports progress outlives the timeout even
      // when the client asked for none; it is relayed only to a client that asked.
      onprogress: (progress) => {
        if (progressToken !== undefined) void extra?.sendNotification({ method: 'notifications/progress', params: { ...progress, progressToken } } as never);
      },
      ...(extra && {
        signal: extra.signal,
        onresumptiontoken: (eventId: string) => {
          if (lastEvent !== undefined) this.#streamsByEventId.delete(lastEvent);
          lastEvent = `${upstream.prefix} ${eventId}`;
          this.#streamsByEventId.set(lastEvent, extra);
        },
      }),
    };
    const inFlight = this.#inFlight.get(upstream.prefix) ?? this.#inFlight.set(upstream.prefix, []).get(upstream.prefix)!;
    if (extra) inFlight.push(extra);
    try {
      const client = await this.#client(upstream);
      try {
        return await call(client, options);
      } catch (error) {
        if (!sessionExpired(error, client)) throw error;
        // A 404 to a request that carries Mcp-Session-Id means the upstream no longer knows the session (it restarted
        // or expired it), so it did not process the request: the gateway opens a new upstream session and sends the
        // request once more, which is safe even for a tool call with side effects (MCP 2025-11-25 basic/transports,
        // session management: the client MUST start a new session). Once only; a second failure is the answer.
        // What the old session held upstream (resource subscriptions, the logging level) is not replayed.
        await this.#reconnect(upstream, client);
        return await call(upstream.client!, options);
      }
    } catch (error) {
      throw upstreamError(upstream.config, error, this.#logger);
    } finally {
      if (extra && inFlight.includes(extra)) inFlight.splice(inFlight.indexOf(extra), 1);
      if (lastEvent !== undefined) this.#streamsByEventId.delete(lastEvent);
    }
  }

  /** Replaces an upstream's client with one in a new upstream session; concurrent callers share one attempt. */
  async #reconnect(upstream: Upstream, stale: Client): Promise<void> {
    if (upstream.client !== stale) return;
    let pending = this.#reconnecting.get(upstream.prefix);
    if (!pending) {
      pending = (async () => {
        this.#logger.info({ upstream: upstream.config.id }, 'the upstream session expired; opening a new one');
        upstream.client = undefined;
        await this.#client(upstream);
        // The upstream already forgot the old session; closing its client only stops its transport (GET stream, timers).
        await stale.close().catch(() => undefined);
      })().finally(() => this.#reconnecting.delete(upstream.prefix));
      this.#reconnecting.set(upstream.prefix, pending);
    }
    await pending;
  }

  /** Ends the upstream sessions (a Streamable HTTP upstream is told so with DELETE; a stdio child is stopped). */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#upstreams.values()].map((upstream) => upstream.client && closeUpstream(upstream.config, upstream.client)));
  }
}

/**
 * Ends one upstream session. A Streamable HTTP upstream is sent DELETE so it frees the session now rather than when
 * it expires (bounded, so an upstream that does not answer cannot hold up the close); closing the client then aborts
 * its open requests and streams, and stops a stdio child.
 */
async function closeUpstream(config: UpstreamConfig, client: Client): Promise<void> {
  const { transport } = client;
  if (transport instanceof StreamableHTTPClientTransport && transport.sessionId !== undefined) {
    let timer!: ReturnType<typeof setTimeout>;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.min(config.timeoutMs, MAX_TERMINATE_MS));
    });
    await Promise.race([transport.terminateSession().catch(() => undefined), deadline]);
    clearTimeout(timer);
  }
  await client.close();
}
