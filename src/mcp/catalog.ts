import type { ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { UpstreamConfig } from '../config/schema.js';

/** How long an upstream that could not be reached is left out of new sessions before it is tried again. */
const DOWN_FOR_MS = 30_000;

type Known = { capabilities: ServerCapabilities } | { downUntil: number };

/**
 * What each configured upstream offers, learned from the sessions the gateway opens to it (MCP 2025-11-25
 * lifecycle, capability negotiation). A new downstream session answers `initialize` from here, as the union of its
 * tenant's upstreams, and opens an upstream session only when a request needs that upstream. An upstream not yet
 * known is connected at `initialize`, which teaches the catalog; every later connection refreshes what it knows.
 */
export class UpstreamCatalog {
  // Keyed by the configuration entry itself: each tenant's upstreams are their own entries, fixed for the process.
  readonly #known = new WeakMap<UpstreamConfig, Known>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** The upstream's capabilities; `'down'` if it recently could not be reached; `undefined` if not known yet. */
  lookup(upstream: UpstreamConfig): ServerCapabilities | 'down' | undefined {
    const known = this.#known.get(upstream);
    if (!known) return undefined;
    if ('capabilities' in known) return known.capabilities;
    return known.downUntil > this.#now() ? 'down' : undefined;
  }

  learned(upstream: UpstreamConfig, capabilities: ServerCapabilities): void {
    this.#known.set(upstream, { capabilities });
  }

  unreachable(upstream: UpstreamConfig): void {
    this.#known.set(upstream, { downUntil: this.#now() + DOWN_FOR_MS });
  }
}
