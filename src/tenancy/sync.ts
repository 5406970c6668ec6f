import { randomToken } from '../../oauth/crypto.js';
import type { Logger } from '../../oauth/types.js';
import { tenantSchema, type TenantConfig } from '../config/schema.js';
import type { Store } from '../store/store.js';
import type { Tenant, Tenants } from './resources.js';

/** Ids of the tenants managed through the admin API and the version of each. */
type TenantIndex = Record<string, number>;

interface StoredTenant {
  version: number;
  config: TenantConfig;
}

const INDEX_KEY = 'tenants:index';
/** Changes whenever any tenant does, so a replica can tell with one small read whether to look further. */
const MARKER_KEY = 'tenants:changed';
const MAX_CAS_ATTEMPTS = 20;

function tenantKey(id: string): string {
  return `tenant:${id}`;
}

export interface TenantSyncOptions {
  store: Store;
  tenants: Tenants;
  logger: Logger;
  now: () => number;
  /** Called after a tenant was added, replaced (`after` set) or removed (`after` undefined) on this replica. */
  onChange: (id: string, before: Tenant | undefined, after: Tenant | undefined) => void;
  /** How often a replica looks for changes made elsewhere, at most. */
  intervalMs?: number;
}

/**
 * Keeps the tenants managed through the admin API in step across replicas. They live in the store (one key per
 * tenant, an index of ids and versions, and a change marker); each replica applies a change it makes at once, and
 * picks up the others' by checking the marker at most every `intervalMs` — one small read — and then reading only
 * the tenants whose version moved.
 */
export class TenantSync {
  readonly #o: Required<TenantSyncOptions>;
  readonly #versions = new Map<string, number>();
  #marker: string | undefined;
  #checked = Number.NEGATIVE_INFINITY;
  #running: Promise<void> | undefined;

  constructor(options: TenantSyncOptions) {
    this.#o = { intervalMs: 2000, ...options };
  }

  /** Picks up changes made by any replica, unless it looked less than `intervalMs` ago; concurrent callers share one look. */
  async refresh(force = false): Promise<void> {
    if (!force && this.#o.now() - this.#checked < this.#o.intervalMs) return;
    this.#running ??= this.#look().finally(() => {
      this.#running = undefined;
    });
    await this.#running;
  }

  async #look(): Promise<void> {
    this.#checked = this.#o.now();
    const marker = await this.#o.store.get<string>(MARKER_KEY);
    if (marker === this.#marker) return;
    const index = (await this.#o.store.get<TenantIndex>(INDEX_KEY)) ?? {};
    const changed = Object.entries(index).filter(([id, version]) => this.#versions.get(id) !== version);
    const stored = await Promise.all(changed.map(([id]) => this.#o.store.get<StoredTenant>(tenantKey(id))));
    stored.forEach((entry, position) => {
      const id = changed[position]![0];
      if (entry) this.#apply(id, entry);
    });
    for (const id of [...this.#versions.keys()]) if (!(id in index)) this.#remove(id);
    this.#marker = marker;
  }

  #apply(id: string, entry: StoredTenant): void {
    // What another replica wrote is checked again before it is served: a tenant that does not validate is skipped.
    const parsed = tenantSchema.safeParse(entry.config);
    if (!parsed.success || parsed.data.id !== id || this.#o.tenants.isFixed(id)) {
      this.#o.logger.error({ tenant: id }, 'a stored tenant is invalid or shadows a configured one; it is not served');
      return;
    }
    const before = this.#o.tenants.get(id);
    const after = this.#o.tenants.put(parsed.data);
    this.#versions.set(id, entry.version);
    this.#o.onChange(id, before, after);
  }

  #remove(id: string): void {
    const before = this.#o.tenants.remove(id);
    this.#versions.delete(id);
    if (before) this.#o.onChange(id, before, undefined);
  }

  /** Creates or replaces a tenant (already validated) in the store and here; other replicas follow within `intervalMs`. */
  async write(config: TenantConfig): Promise<Tenant> {
    let version = 0;
    await this.#updateIndex((index) => {
      version = (index[config.id] ?? 0) + 1;
      return { ...index, [config.id]: version };
    }, async () => {
      await this.#o.store.set<StoredTenant>(tenantKey(config.id), { version, config });
    });
    this.#apply(config.id, { version, config });
    return this.#o.tenants.get(config.id)!;
  }

  /** Deletes a tenant managed through the API; false if there is none. */
  async delete(id: string): Promise<boolean> {
    let existed = false;
    await this.#updateIndex((index) => {
      existed = id in index;
      const { [id]: _removed, ...rest } = index;
      return rest;
    });
    if (!existed) return false;
    await this.#o.store.delete(tenantKey(id));
    this.#remove(id);
    return true;
  }

  /**
   * Changes the index by compare-and-set, so concurrent admin writes on several replicas all land; `before` runs
   * ahead of each attempt (writing the tenant first, so a replica that sees the new index finds it), and the
   * marker changes last.
   */
  async #updateIndex(change: (index: TenantIndex) => TenantIndex, before?: () => Promise<void>): Promise<void> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const current = await this.#o.store.get<TenantIndex>(INDEX_KEY);
      const next = change(current ?? {});
      await before?.();
      if (await this.#o.store.compareAndSet<TenantIndex>(INDEX_KEY, current, next)) {
        await this.#o.store.set(MARKER_KEY, randomToken(12));
        return;
      }
    }
    throw new Error('the tenant index kept changing; try again');
  }
}
