import type { ProtectedResource, ResourceDirectory } from '../../oauth/types.js';
import type { Config, TenantConfig } from '../config/schema.js';
import { Policy } from '../policy/engine.js';
import { compileGuardrails, type TenantGuard } from '../guard/compile.js';
import { compileQuotas, type TenantQuotas } from '../quota/compile.js';
import type { PlanConfig } from '../quota/schema.js';

/** A tenant as the gateway serves it: its configuration, its one MCP resource, its compiled policy, quotas and guardrails. */
export interface Tenant {
  config: TenantConfig;
  resource: ProtectedResource;
  /** The request path of the tenant's MCP endpoint on this gateway (without the public base URL's path). */
  path: string;
  policy: Policy;
  quotas: TenantQuotas;
  guard: TenantGuard;
}

/**
 * Each tenant has exactly one MCP resource: `<publicUrl>/t/<id>/mcp`, and the default tenant's is
 * `<publicUrl>/mcp`.
 */
export function tenantPath(config: Pick<Config, 'defaultTenant'>, tenantId: string): string {
  return tenantId === config.defaultTenant ? '/mcp' : `/t/${tenantId}/mcp`;
}

/** The scopes of each configured service client, computed once for all tenants. */
function serviceClientScopes(config: Pick<Config, 'clients'>): ReadonlyMap<string, ReadonlySet<string>> {
  return new Map(config.clients.map((client) => [client.clientId, new Set(client.scopes)]));
}

/**
 * A tenant's policy, compiled once. A client can step up to any scope the tenant defines; a service client
 * (client credentials) only to the scopes configured for it.
 */
export function compilePolicy(config: Pick<Config, 'clients'>, tenant: TenantConfig, serviceScopes = serviceClientScopes(config)): Policy {
  const defined = new Set(tenant.scopes.map((scope) => scope.name));
  return new Policy(tenant.policy, {
    mayObtain: (caller, scopes) => {
      const service = serviceScopes.get(caller.clientId);
      return scopes.every((scope) => (service ? service.has(scope) : defined.has(scope)));
    },
  });
}

/**
 * The tenants of a gateway, indexed by id and by resource URL: those of the configuration file, fixed for the
 * process, and those managed through the admin API, which {@link TenantSync} keeps in step with the store.
 */
export class Tenants implements ResourceDirectory {
  readonly #config: Config;
  readonly #publicUrl: string;
  readonly #fixed: ReadonlySet<string>;
  readonly #serviceScopes: ReadonlyMap<string, ReadonlySet<string>>;
  readonly #plans: ReadonlyMap<string, PlanConfig>;
  readonly #byId = new Map<string, Tenant>();
  readonly #byResource = new Map<string, Tenant>();
  /** The resources of every tenant, built once per change of the tenants, not per discovery request. */
  #resources: readonly ProtectedResource[] | undefined;

  constructor(config: Config, publicUrl: string) {
    this.#config = config;
    this.#publicUrl = publicUrl;
    this.#fixed = new Set(config.tenants.map((tenant) => tenant.id));
    this.#serviceScopes = serviceClientScopes(config);
    this.#plans = new Map(config.plans.map((plan) => [plan.id, plan]));
    for (const tenant of config.tenants) this.#add(tenant);
  }

  #add(config: TenantConfig): Tenant {
    const path = tenantPath(this.#config, config.id);
    const tenant: Tenant = {
      config,
      path,
      policy: compilePolicy(this.#config, config, this.#serviceScopes),
      quotas: compileQuotas(config.quotas, this.#plans),
      guard: compileGuardrails(config.guardrails),
      resource: {
        resource: this.#publicUrl + path,
        tenant: config.id,
        tenantName: config.name ?? config.id,
        baseScope: config.baseScope,
        scopes: [{ name: config.baseScope, description: `Use the tools of ${config.name ?? config.id}` }, ...config.scopes.filter((scope) => scope.name !== config.baseScope)],
      },
    };
    this.#byId.set(config.id, tenant);
    this.#byResource.set(tenant.resource.resource, tenant);
    this.#resources = undefined;
    return tenant;
  }

  /** Whether the tenant comes from the configuration file (and so cannot be changed through the API). */
  isFixed(id: string): boolean {
    return this.#fixed.has(id);
  }

  /** Adds or replaces a tenant managed through the admin API. */
  put(config: TenantConfig): Tenant {
    if (this.#fixed.has(config.id)) throw new Error(`tenant ${config.id} is defined in the configuration file`);
    return this.#add(config);
  }

  /** Removes a tenant managed through the admin API. */
  remove(id: string): Tenant | undefined {
    const tenant = this.#byId.get(id);
    if (!tenant || this.#fixed.has(id)) return undefined;
    this.#byId.delete(id);
    this.#byResource.delete(tenant.resource.resource);
    this.#resources = undefined;
    return tenant;
  }

  /** Whether a plan of this id is defined, for tenants that name one. */
  hasPlan(id: string): boolean {
    return this.#plans.has(id);
  }

  get(id: string): Tenant | undefined {
    return this.#byId.get(id);
  }

  list(): Tenant[] {
    return [...this.#byId.values()];
  }

  get defaultTenant(): Tenant {
    return this.#byId.get(this.#config.defaultTenant)!;
  }

  all(): readonly ProtectedResource[] {
    this.#resources ??= Object.freeze([...this.#byId.values()].map((tenant) => tenant.resource));
    return this.#resources;
  }

  byResource(resource: string): ProtectedResource | undefined {
    return this.#byResource.get(resource)?.resource;
  }

  defaultResource(): ProtectedResource {
    return this.defaultTenant.resource;
  }
}
