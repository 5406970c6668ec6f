import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { OAuthError } from '../../oauth/errors.js';
import { readBody } from '../../oauth/http.js';
import { tenantSchema, type Config, type TenantConfig } from '../config/schema.js';
import type { Tenant, Tenants } from '../tenancy/resources.js';
import type { TenantSync } from '../tenancy/sync.js';
import { adminAuth, forbidden, type AdminVariables } from './auth.js';

export interface AdminOptions {
  tokens: Config['admin']['tokens'];
  tenants: Tenants;
  sync: TenantSync;
}

type Env = { Variables: AdminVariables };

const MAX_BODY_BYTES = 1024 * 1024;
const REDACTED = '(redacted)';

/** A tenant as the API shows it: its configuration with secrets redacted, where it comes from, and its resource. */
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
  /** Validates a tenant as the API accepts it: the configuration schema, and no stdio upstream. */
  const validate = (candidate: unknown): TenantConfig | Response => {
    const parsed = tenantSchema.safeParse(candidate);
    if (!parsed.success) return invalid(parsed.error.issues);
    const stdio = parsed.data.upstreams.findIndex((upstream) => upstream.transport === 'stdio');
    if (stdio >= 0) return invalid([{ code: 'custom', path: ['upstreams', stdio, 'transport'], message: 'stdio upstreams come from the configuration file only', input: undefined }]);
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
  const replacePart = async (c: Context<Env>, part: 'policy' | 'upstreams') => {
    await sync.refresh(true);
    const id = c.req.param('id')!;
    const tenant = changeable(c, id, false);
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
  api.put('/tenants/:id/upstreams', (c) => replacePart(c, 'upstreams'));

  api.onError((error) => {
    if (error instanceof Refusal) return error.response;
    throw error;
  });
  api.notFound((c) => problem(404, 'not_found', 'no such admin endpoint'));
  return api;
}
