import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { OAuthError } from '../../oauth/errors.js';
import { readBody } from '../../oauth/http.js';
import type { Client } from '../../oauth/clients.js';
import type { Logger } from '../../oauth/types.js';
import { tenantSchema, type Config, type TenantConfig } from '../config/schema.js';
import type { ToolPins } from '../guard/pins.js';
import type { Metrics } from '../observe/metrics.js';
import { planReferences } from '../quota/schema.js';
import type { Revoked } from '../mcp/sessions.js';
import type { Tenant, Tenants } from '../tenancy/resources.js';
import type { TenantSync } from '../tenancy/sync.js';
import { adminAuth, forbidden, type AdminVariables } from './auth.js';

/** What the admin API needs of the authorization server and the MCP sessions to revoke clients and users. */
export interface Revoker {
  revokeClient(clientId: string): Promise<void>;
  revokeSubject(sub: string): Promise<void>;
  findClient(clientId: string): Promise<Client | undefined>;
  registeredClients(): Promise<string[]>;
  endSessionsOf(revoked: Revoked): Promise<void>;
}

export interface AdminOptions {
  tokens: Config['admin']['tokens'];
  tenants: Tenants;
  sync: TenantSync;
  users: Config['users'];
  /** Ids of the configured service clients, listed first. */
  serviceClientIds: readonly string[];
  revoker: Revoker;
  logger: Logger;
  metrics: Metrics;
  pins: ToolPins;
  /** Tells the tenant's sessions on every replica that their tool lists changed. */
  toolsApproved(tenant: string): Promise<void>;
}

type Env = { Variables: AdminVariables };

const MAX_BODY_BYTES = 1024 * 1024;
const REDACTED = '(redacted)';

/** A tenant as the API shows it: its configuration with secrets redacted, where it comes from, and its resource. */
const approvalSchema = z.object({ upstream: z.string().min(1), tool: z.string().min(1), hash: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a definition hash as listed') }).strict();

function view(tenant: Tenant, fixed: boolean) {
  const { config } = tenant;
  return {
    ...config,
    upstreams: config.upstreams.map((upstream) => ({
      ...upstream,
      ...('headers' in upstream && { headers: Object.fromEntries(Object.keys(upstream.headers).map((name) => [name, REDACTED])) }),
      ...('oauth' in upstream && upstream.oauth && { oauth: { ...upstream.oauth, clientSecret: REDACTED } }),
      ...('env' in upstream && { env: Object.fromEntries(Object.keys(upstream.env).map((name) => [name, REDACTED])) }),
    })),
    source: fixed ? 'config' : 'api',
    resource: tenant.resource.resource,
  };
}

/** Problems with a tenant, each named by its path in the tenant (so a policy's are under `policy.`). */
function invalid(issues: z.core.$ZodIssue[]): Response {
  return Response.json(
    { error: 'invalid_request', error_description: 'the tenant is not valid', issues: issues.map((issue) => ({ path: issue.path.join('.') || '(root)', message: issue.message })) },
    { status: 400, headers: { 'cache-control': 'no-store' } },
  );
}

/** A request the API refuses, thrown from deep inside a handler and answered by `onError`. */
class Refusal extends Error {
  constructor(readonly response: Response) {
    super('refused');
  }
}

function problem(status: 400 | 404 | 409 | 413, error: string, description: string): Response {
  return Response.json({ error, error_description: description }, { status, headers: { 'cache-control': 'no-store' } });
}

/**
 * The admin API, `/admin/v1` (docs/admin.md): tenants, their upstreams and policies. A global admin manages
 * tenants; a tenant admin reads its tenants and changes their policy and upstreams. Tenants of the configuration
 * file are read-only here; tenants made here live in the store and reach every replica within seconds.
 */
export function adminApi(options: AdminOptions): Hono<Env> {
  const { tenants, sync } = options;
  const api = new Hono<Env>();
  api.use('*', adminAuth(options.tokens));

  const visible = (c: Context<Env>, id: string) => c.get('admin').global || c.get('admin').tenants.has(id);
  const json = async (c: Context<Env>): Promise<unknown> => {
    try {
      return JSON.parse(await readBody(c, MAX_BODY_BYTES));
    } catch (error) {
      if (error instanceof OAuthError && error.status === 413) throw new Refusal(problem(413, 'invalid_request', 'the body is too large'));
      throw new Refusal(problem(400, 'invalid_request', 'the body is not valid JSON'));
    }
  };
  /** Validates a tenant as the API accepts it: the configuration schema, plans the file defines, and no stdio upstream. */
  const validate = (candidate: unknown): TenantConfig | Response => {
    const parsed = tenantSchema.safeParse(candidate);
    if (!parsed.success) return invalid(parsed.error.issues);
    const stdio = parsed.data.upstreams.findIndex((upstream) => upstream.transport === 'stdio');
    if (stdio >= 0) return invalid([{ code: 'custom', path: ['upstreams', stdio, 'transport'], message: 'stdio upstreams come from the configuration file only', input: undefined }]);
    const unknownPlans = planReferences(parsed.data.quotas).filter(({ plan }) => !tenants.hasPlan(plan));
    if (unknownPlans.length > 0) return invalid(unknownPlans.map(({ plan, path }) => ({ code: 'custom', path, message: `no plan has the id "${plan}"`, input: undefined })));
    return parsed.data;
  };
  /** The tenant an admin may change: one made through the API. */
  const changeable = (c: Context<Env>, id: string, needGlobal: boolean): Tenant | Response => {
    if (needGlobal ? !c.get('admin').global : !visible(c, id)) return forbidden(needGlobal ? 'this needs a global admin' : `this token does not administer tenant ${id}`);
    const tenant = tenants.get(id);
    if (!tenant) return problem(404, 'not_found', `no tenant ${id}`);
    if (tenants.isFixed(id)) return problem(409, 'conflict', `tenant ${id} is defined in the configuration file; change it there`);
    return tenant;
  };
  // Upstreams are where the gateway connects, with its own network reach and credentials: a global admin's call.
  const replacePart = async (c: Context<Env>, part: 'policy' | 'upstreams') => {
    await sync.refresh(true);
    const id = c.req.param('id')!;
    const tenant = changeable(c, id, part === 'upstreams');
    if (tenant instanceof Response) return tenant;
    const body = await json(c);
    const next = validate({ ...tenant.config, [part]: body });
    if (next instanceof Response) return next;
    return c.json(view(await sync.write(next), false));
  };

  api.get('/tenants', async (c) => {
    await sync.refresh();
    return c.json({ tenants: tenants.list().filter((tenant) => visible(c, tenant.config.id)).map((tenant) => view(tenant, tenants.isFixed(tenant.config.id))) });
  });

  api.get('/tenants/:id', async (c) => {
    await sync.refresh();
    const id = c.req.param('id');
    if (!visible(c, id)) return forbidden(`this token does not administer tenant ${id}`);
    const tenant = tenants.get(id);
    return tenant ? c.json(view(tenant, tenants.isFixed(id))) : problem(404, 'not_found', `no tenant ${id}`);
  });

  api.put('/tenants/:id', async (c) => {
    await sync.refresh(true);
    const id = c.req.param('id');
    if (!c.get('admin').global) return forbidden('this needs a global admin');
    if (tenants.isFixed(id)) return problem(409, 'conflict', `tenant ${id} is defined in the configuration file; change it there`);
    const body = await json(c);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return problem(400, 'invalid_request', 'the body must be a JSON object');
    if ('id' in body && body.id !== id) return problem(400, 'invalid_request', 'the id in the body differs from the one in the path');
    const config = validate({ ...body, id });
    if (config instanceof Response) return config;
    const existed = tenants.get(id) !== undefined;
    return c.json(view(await sync.write(config), false), existed ? 200 : 201);
  });

  api.delete('/tenants/:id', async (c) => {
    await sync.refresh(true);
    const tenant = changeable(c, c.req.param('id'), true);
    if (tenant instanceof Response) return tenant;
    await sync.delete(tenant.config.id);
    return c.body(null, 204);
  });

  api.get('/tenants/:id/policy', async (c) => {
    await sync.refresh();
    const id = c.req.param('id');
    if (!visible(c, id)) return forbidden(`this token does not administer tenant ${id}`);
    const tenant = tenants.get(id);
    return tenant ? c.json(tenant.config.policy) : problem(404, 'not_found', `no tenant ${id}`);
  });
  api.put('/tenants/:id/policy', (c) => replacePart(c, 'policy'));

  // Tool-definition pins (docs/guardrails.md): what is pinned, what changed, and approving a definition by its hash.
  const tenantOf = async (c: Context<Env>): Promise<Tenant | Response> => {
    await sync.refresh();
    const id = c.req.param('id')!;
    if (!visible(c, id)) return forbidden(`this token does not administer tenant ${id}`);
    return tenants.get(id) ?? problem(404, 'not_found', `no tenant ${id}`);
  };
  api.get('/tenants/:id/tools', async (c) => {
    const tenant = await tenantOf(c);
    if (tenant instanceof Response) return tenant;
    const upstreams = await Promise.all(tenant.config.upstreams.map(async (upstream) => [upstream.id, await options.pins.list(tenant.config.id, upstream.id)] as const));
    return c.json({ upstreams: Object.fromEntries(upstreams) });
  });
  api.post('/tenants/:id/tools/approve', async (c) => {
    const tenant = await tenantOf(c);
    if (tenant instanceof Response) return tenant;
    const parsed = approvalSchema.safeParse(await json(c));
    if (!parsed.success) return invalid(parsed.error.issues);
    const { upstream, tool, hash } = parsed.data;
    if (!(await options.pins.approve(tenant.config.id, upstream, tool, hash))) return problem(404, 'not_found', `upstream ${upstream} has no definition of tool ${tool} with that hash`);
    options.logger.info({ admin: c.get('admin').name, tenant: tenant.config.id, upstream, tool, hash }, 'an admin approved a tool definition');
    await options.toolsApproved(tenant.config.id);
    return c.json({ approved: { upstream, tool, hash } });
  });
  api.put('/tenants/:id/upstreams', (c) => replacePart(c, 'upstreams'));

  // Users and clients are not bound to one tenant, so they are a global admin's.
  const globalOnly = async (c: Context<Env>, next: () => Promise<void>) => {
    if (!c.get('admin').global) return forbidden('this needs a global admin');
    await next();
  };
  // Every tenant's counters: a global admin's (point a scraper at it with a global admin token).
  api.get('/metrics', globalOnly, (c) => c.body(options.metrics.render(), 200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }));
  api.use('/users', globalOnly);
  api.use('/users/*', globalOnly);
  api.use('/clients', globalOnly);
  api.use('/clients/*', globalOnly);

  const userView = (user: Config['users'][number]) => ({ username: user.username, sub: `local:${user.username}`, name: user.name ?? user.username, tenants: user.tenants, groups: user.groups });
  const userNamed = (username: string) => options.users.find((user) => user.username === username);
  api.get('/users', (c) => c.json({ users: options.users.map(userView) }));
  api.get('/users/:username', (c) => {
    const user = userNamed(c.req.param('username'));
    return user ? c.json(userView(user)) : problem(404, 'not_found', 'no such user');
  });
  api.post('/users/:username/revoke', async (c) => {
    const user = userNamed(c.req.param('username'));
    if (!user) return problem(404, 'not_found', 'no such user');
    const sub = `local:${user.username}`;
    await options.revoker.revokeSubject(sub);
    await options.revoker.endSessionsOf({ sub });
    options.logger.info({ admin: c.get('admin').name, sub }, 'an admin revoked every token of a user');
    return c.json({ revoked: sub });
  });

  const clientView = (client: Client) => ({
    client_id: client.clientId,
    kind: client.kind,
    ...(client.tenant !== undefined && { tenant: client.tenant }),
    ...(client.allowedScopes !== undefined && { scopes: client.allowedScopes }),
    client_name: client.metadata.client_name,
    redirect_uris: client.metadata.redirect_uris,
    grant_types: client.metadata.grant_types,
    token_endpoint_auth_method: client.metadata.token_endpoint_auth_method,
  });
  // Configured clients first, then registered ones, newest first; `limit` (default 100, at most 1000) bounds the reads.
  api.get('/clients', async (c) => {
    const limit = Math.min(Math.max(Number(c.req.query('limit') ?? 100) || 100, 1), 1000);
    const ids = [...new Set([...options.serviceClientIds, ...(await options.revoker.registeredClients()).reverse()])].slice(0, limit);
    const found = await Promise.all(ids.map((id) => options.revoker.findClient(id)));
    return c.json({ clients: found.filter((client) => client !== undefined).map(clientView) });
  });
  const clientOf = async (c: Context<Env>) => {
    try {
      return await options.revoker.findClient(decodeURIComponent(c.req.param('id') ?? ''));
    } catch {
      // A metadata document that cannot be fetched now names no client we can show.
      return undefined;
    }
  };
  api.get('/clients/:id', async (c) => {
    const client = await clientOf(c);
    return client ? c.json(clientView(client)) : problem(404, 'not_found', 'no such client');
  });
  api.post('/clients/:id/revoke', async (c) => {
    const clientId = decodeURIComponent(c.req.param('id'));
    // A client ID metadata document's client may never have been seen here; its tokens are revoked all the same.
    const client = await clientOf(c);
    if (!client && !/^https:\/\//.test(clientId)) return problem(404, 'not_found', 'no such client');
    await options.revoker.revokeClient(clientId);
    await options.revoker.endSessionsOf({ clientId });
    options.logger.info({ admin: c.get('admin').name, clientId }, 'an admin revoked every token of a client');
    return c.json({ revoked: clientId });
  });

  api.onError((error) => {
    if (error instanceof Refusal) return error.response;
    throw error;
  });
  api.notFound((c) => problem(404, 'not_found', 'no such admin endpoint'));
  return api;
}
