import type { ProtectedResource, ResourceDirectory } from '../../oauth/types.js';
import type { Config, TenantConfig } from '../config/schema.js';
import { Policy } from '../policy/engine.js';

/** A tenant as the gateway serves it: its configuration, its one MCP resource and its compiled policy. */
export interface Tenant {
  config: TenantConfig;
  resource: ProtectedResource;
  /** The request path of the tenant's MCP endpoint on this gateway (without the public base URL's path). */
  path: string;
  policy: Policy;
}

/**
 * Each tenant has exactly one MCP resource: `<publicUrl>/t/<id>/mcp`, and the default tenant's is
 * `<publicUrl>/mcp`.
 */
export function tenantPath(config: Pick<Config, 'defaultTenant'>, tenantId: string): string {
  return tenantId === config.defaultTenant ? '/mcp' : `/t/${tenantId}/mcp`;
}

/**
 * A tenant's policy, compiled once. A client can step up to any scope the tenant defines; a service client
 * (client credentials) only to the scopes configured for it.
 */
export function compilePolicy(config: Pick<Config, 'clients'>, tenant: TenantConfig): Policy {
  const serviceScopes = new Map(config.clients.map((client) => [client.clientId, new Set(client.scopes)]));
  const defined = new Set(tenant.scopes.map((scope) => scope.name));
  return new Policy(tenant.policy, {
    mayObtain: (caller, scopes) => {
      const service = serviceScopes.get(caller.clientId);
      return scopes.every((scope) => (service ? service.has(scope) : defined.has(scope)));
    },
  });
}

/** The tenants of a configuration, indexed by id and by resource URL. */
export class Tenants implements ResourceDirectory {
  readonly #byId: ReadonlyMap<string, Tenant>;
  readonly #byResource: ReadonlyMap<string, Tenant>;
  readonly #default: Tenant;

  constructor(config: Config, publicUrl: string) {
    const tenants = config.tenants.map((tenant): Tenant => {
      const path = tenantPath(config, tenant.id);
      return {
        config: tenant,
        path,
        policy: compilePolicy(config, tenant),
        resource: {
          resource: publicUrl + path,
          tenant: tenant.id,
          tenantName: tenant.name ?? tenant.id,
          baseScope: tenant.baseScope,
          scopes: [
            { name: tenant.baseScope, description: `Use the tools of ${tenant.name ?? tenant.id}` },
            ...tenant.scopes.filter((scope) => scope.name !== tenant.baseScope),
          ],
        },
      };
    });
    this.#byId = new Map(tenants.map((tenant) => [tenant.config.id, tenant]));
    this.#byResource = new Map(tenants.map((tenant) => [tenant.resource.resource, tenant]));
    this.#default = this.#byId.get(config.defaultTenant)!;
  }

  get(id: string): Tenant | undefined {
    return this.#byId.get(id);
  }

  get defaultTenant(): Tenant {
    return this.#default;
  }

  all(): readonly ProtectedResource[] {
    return [...this.#byId.values()].map((tenant) => tenant.resource);
  }

  byResource(resource: string): ProtectedResource | undefined {
    return this.#byResource.get(resource)?.resource;
  }

  defaultResource(): ProtectedResource {
    return this.#default.resource;
  }
}
