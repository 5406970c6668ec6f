import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Store } from '../store/store.js';

/** One tool's pin: the definition trusted for it, and a changed one waiting for an admin, if any. */
export interface ToolPin {
  hash: string;
  definition: Tool;
  /** An admin approved this definition (a first sight pins without approving). */
  approved?: true;
  /** A definition the upstream now lists instead, not yet approved. */
  pending?: { hash: string; definition: Tool; seenAt: string };
}

/** The pins of one upstream of one tenant, by the tool's name as the upstream lists it. */
export type UpstreamPins = Record<string, ToolPin>;

/** What a listing found for one tool. */
export type PinStatus = { state: 'pinned'; pin: ToolPin } | { state: 'changed'; pin: ToolPin };

const pinsKey = (tenant: string, upstream: string) => `pins:${encodeURIComponent(tenant)}:${encodeURIComponent(upstream)}`;
const MAX_ATTEMPTS = 10;

/**
 * Tool-definition pinning (docs/guardrails.md). The first definition a tenant sees of a tool is pinned by its hash,
 * set by compare-and-set so that replicas listing at once agree on one; a later different definition is recorded as
 * pending until an admin approves it. One record per upstream, so a listing costs one read when nothing is new.
 */
export class ToolPins {
  constructor(private readonly store: Store) {}

  /** Pins the tools seen for the first time, records changed ones as pending, and says what each tool is. */
  async review(tenant: string, upstream: string, tools: ReadonlyArray<{ definition: Tool; hash: string }>, now: number): Promise<Map<string, PinStatus>> {
    const key = pinsKey(tenant, upstream);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.store.get<UpstreamPins>(key);
      const next: UpstreamPins = { ...current };
      let changed = false;
      for (const { definition, hash } of tools) {
        const pin = next[definition.name];
        if (pin === undefined) {
          next[definition.name] = { hash, definition };
          changed = true;
        } else if (pin.hash !== hash && pin.pending?.hash !== hash) {
          next[definition.name] = { ...pin, pending: { hash, definition, seenAt: new Date(now).toISOString() } };
          changed = true;
        }
      }
      if (!changed || (await this.store.compareAndSet(key, current, next))) {
        return new Map(tools.map(({ definition, hash }) => {
          const pin = next[definition.name]!;
          return [definition.name, { state: pin.hash === hash ? 'pinned' : 'changed', pin }];
        }));
      }
    }
    throw new Error('the tool pins kept changing under this replica; try again');
  }

  /** Every pin of one upstream, for the admin API. */
  async list(tenant: string, upstream: string): Promise<UpstreamPins> {
    return (await this.store.get<UpstreamPins>(pinsKey(tenant, upstream))) ?? {};
  }

  /**
   * Approves one definition of a tool, named by its hash: the pending one (which becomes the pin) or the pinned one
   * (which a poisoning finding had kept hidden). Resolves false when no definition of that hash is known.
   */
  async approve(tenant: string, upstream: string, tool: string, hash: string): Promise<boolean> {
    const key = pinsKey(tenant, upstream);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.store.get<UpstreamPins>(key);
      const pin = current?.[tool];
      if (!current || !pin) return false;
      let approved: ToolPin;
      if (pin.pending?.hash === hash) approved = { hash, definition: pin.pending.definition, approved: true };
      else if (pin.hash === hash) approved = { hash, definition: pin.definition, approved: true, ...(pin.pending && { pending: pin.pending }) };
      else return false;
      if (await this.store.compareAndSet(key, current, { ...current, [tool]: approved })) return true;
    }
    throw new Error('the tool pins kept changing; try again');
  }
}
