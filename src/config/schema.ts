import { z } from 'zod';
import { parsePasswordHash } from '../../oauth/password.js';
import { guardrailsSchema } from '../guard/schema.js';
import { policySchema } from '../policy/schema.js';
import { planReferences, planSchema, quotasSchema, rateLimitsSchema } from '../quota/schema.js';
import { refineUnique } from './unique.js';

/**
 * The whole configuration of a gateway, validated once at start-up. Every field is documented in README.md
 * ("Configuration"); keep the two in step.
 */

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** https, or http on a loopback host; no query, fragment, credentials or trailing slash. */
const baseUrl = z.string().superRefine((value, ctx) => {
  if (!URL.canParse(value)) {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' });
    return;
  }
  const url = new URL(value);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    ctx.addIssue({ code: 'custom', message: 'must be https (http is allowed only on a loopback host)' });
  }
  if (url.search || url.hash || value.includes('?') || value.includes('#')) ctx.addIssue({ code: 'custom', message: 'must not have a query or fragment' });
  if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must not contain credentials' });
  if (value.endsWith('/')) ctx.addIssue({ code: 'custom', message: 'must not end with a slash' });
});

const slug = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a lowercase slug (a-z, 0-9, -; at most 63 characters)');
// RFC 6749 §3.3 scope-token characters.
const scopeToken = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'must be a valid scope token');
const origin = z.string().refine((value) => URL.canParse(value) && new URL(value).origin === value, 'must be an origin such as https://app.example.com');
const seconds = z.number().int().positive();

const scopeSchema = z.object({ name: scopeToken.refine((name) => name !== 'offline_access', 'offline_access is reserved for refresh tokens'), description: z.string().optional() }).strict();

const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be an HTTP header name');
// Headers the gateway owns on upstream requests; configuring them would break the transport or leak identity.
const RESERVED_HEADERS = new Set(['host', 'content-length', 'content-type', 'accept', 'connection', 'transfer-encoding', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id', 'cookie']);

const upstreamCommon = {
  /** Names the upstream in logs and is the default prefix of its tools, prompts and resources. */
  id: slug,
  /**
   * Namespace for this upstream's names: `<prefix>__<name>`. Defaults to the id. `''` keeps the upstream's own names
   * and URIs, which only a tenant's single upstream may do.
   */
  prefix: z
    .string()
    .regex(/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)?$/, 'must be a lowercase slug (a-z, 0-9, -; at most 63 characters), or empty')
    .optional(),
  /** A request to this upstream fails with a JSON-RPC error after this long without a response or progress. */
  timeoutMs: z.number().int().positive().max(600_000).default(30_000),
  /** A request to this upstream fails after this long in all, even while progress keeps arriving. */
  maxTotalTimeoutMs: z.number().int().positive().max(3_600_000).default(600_000),
};

const httpUpstream = {
  url: z.string().refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), 'must be an http(s) URL'),
  /** Static headers sent to the upstream, e.g. `Authorization: Bearer ${UPSTREAM_TOKEN}`. */
  headers: z
    .record(headerName, z.string())
    .default({})
    .refine((headers) => Object.keys(headers).every((name) => !RESERVED_HEADERS.has(name.toLowerCase())), 'must not set transport headers (Host, Content-Type, Mcp-Session-Id, Cookie, ...)'),
  /** The gateway's own token from the upstream's authorization server (client credentials). */
  oauth: z
    .object({
      /** The upstream authorization server's issuer; its metadata is discovered (RFC 8414). */
      issuer: baseUrl,
      clientId: z.string().min(1),
      clientSecret: z.string().min(1),
      scope: z.string().optional(),
      /** RFC 8707 resource indicator to request, usually the upstream's URL. */
      resource: z.string().optional(),
    })
    .strict()
    .optional(),
};

const upstreamSchema = z.discriminatedUnion('transport', [
  z.object({ ...upstreamCommon, transport: z.literal('streamable-http'), ...httpUpstream }).strict(),
  z.object({ ...upstreamCommon, transport: z.literal('sse'), ...httpUpstream }).strict(),
  z
    .object({
      ...upstreamCommon,
      transport: z.literal('stdio'),
      command: z.string().min(1),
      args: z.array(z.string()).default([]),
      /** The only environment the process gets (plus the variables named in inheritEnv). */
      env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'), z.string()).default({}),
      /** Names of the gateway's own environment variables to pass through, e.g. [PATH]. */
      inheritEnv: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).default([]),
      cwd: z.string().optional(),
      /** Most processes of this upstream running at once (one per downstream session). */
      maxProcesses: z.number().int().positive().max(1000).default(16),
    })
    .strict(),
  /** The built-in demo server (echo, add, current time, notes), run in-process. */
  z.object({ ...upstreamCommon, transport: z.literal('demo') }).strict(),
]);

/**
 * One tenant. The same schema validates tenants of the configuration file and tenants written through the admin
 * API (which refuses stdio upstreams: a program to run comes from the file only).
 */
export const tenantSchema = z
  .object({
    id: slug,
    name: z.string().min(1).optional(),
    /** The scope needed to use the tenant's MCP endpoint at all. */
    baseScope: scopeToken.default('mcp'),
    /** Further scopes clients may request for this tenant (policy will require them per tool). */
    scopes: z.array(scopeSchema).default([]),
    /** Browser origins allowed to call the tenant's MCP endpoint (CORS and the Origin check). */
    allowedOrigins: z.array(origin).default([]),
    /** The MCP servers this tenant's endpoint fronts. */
    upstreams: z.array(upstreamSchema).default([]),
    /** Which tools, prompts and resources each caller may see and use (docs/policy.md). */
    policy: policySchema.default({ default: 'allow', rules: [] }),
    /** Rates, windows and concurrency bounds on tool calls, per agent, user, tool or the tenant (docs/quotas.md). */
    quotas: quotasSchema.prefault({}),
    /** What is inspected in messages both ways, and how tool definitions are pinned (docs/guardrails.md). */
    guardrails: guardrailsSchema.prefault({}),
    /** Who may log in to the tenant, besides the users whose own `tenants` name it. */
    members: z
      .object({ users: z.array(z.string().min(1).max(200)).default([]), groups: z.array(z.string().min(1).max(200)).default([]) })
      .strict()
      .default({ users: [], groups: [] }),
  })
  .strict()
  .superRefine((tenant, ctx) => {
    // A rule naming an upstream or scope the tenant lacks is a typo that would silently never match.
    const upstreamIds = new Set(tenant.upstreams.map((upstream) => upstream.id));
    const scopes = new Set([tenant.baseScope, ...tenant.scopes.map((scope) => scope.name)]);
    tenant.policy.rules.forEach((rule, index) => {
      rule.upstreams?.forEach((id, at) => {
        if (!upstreamIds.has(id)) ctx.addIssue({ code: 'custom', path: ['policy', 'rules', index, 'upstreams', at], message: `no upstream "${id}" in this tenant` });
      });
      rule.scopes?.forEach((scope, at) => {
        if (!scopes.has(scope)) ctx.addIssue({ code: 'custom', path: ['policy', 'rules', index, 'scopes', at], message: `the tenant defines no scope "${scope}"` });
      });
    });
    const prefixes = new Set<string>();
    tenant.upstreams.forEach((upstream, index) => {
      // Without a prefix, a name of one upstream could read as a prefixed name of another (`docs__search`).
      if (upstream.prefix === '' && tenant.upstreams.length > 1) {
        ctx.addIssue({ code: 'custom', path: ['upstreams', index, 'prefix'], message: 'may be empty only when the tenant has a single upstream' });
      }
      const prefix = upstream.prefix ?? upstream.id;
      if (prefixes.has(prefix)) ctx.addIssue({ code: 'custom', path: ['upstreams', index, upstream.prefix !== undefined ? 'prefix' : 'id'], message: `duplicate upstream prefix "${prefix}"` });
      prefixes.add(prefix);
    });
  });

const userSchema = z
  .object({
    username: z.string().min(1).max(200),
    name: z.string().min(1).optional(),
    /** `pbkdf2-sha256$<iterations>$<salt>$<hash>`, as printed by `portcullis hash-password`. */
    passwordHash: z.string().refine((value) => parsePasswordHash(value) !== undefined, 'must be a hash from `portcullis hash-password`'),
    /** Ids of the tenants this user may log in to (tenants can also name their members). */
    tenants: z.array(slug).default([]),
    /** Groups policy rules can name. */
    groups: z.array(z.string().min(1).max(200)).default([]),
  })
  .strict();

const serviceClientSchema = z
  .object({
    // No ':' — user subjects are `local:<name>`, and a service client's subject is its id (RFC 9068 §5).
    clientId: z.string().regex(/^[\w.-]{3,128}$/, 'must be 3-128 characters of letters, digits, _ . -'),
    clientSecret: z.string().min(32, 'must be at least 32 characters (use ${ENV_VAR} to keep it out of the file)'),
    name: z.string().min(1).optional(),
    tenant: slug,
    scopes: z.array(scopeToken).default([]),
  })
  .strict();

const storeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('memory') }).strict(),
  z.object({ type: z.literal('redis'), url: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'), keyPrefix: z.string().default('portcullis:') }).strict(),
  /** Cloudflare Workers only: the Durable Object namespace bound as STORE (see wrangler.toml). */
  z.object({ type: z.literal('durable-objects') }).strict(),
]);

export const configSchema = z
  .object({
    /** Where clients reach the gateway, e.g. https://gateway.example.com; every URL in metadata derives from it. */
    publicUrl: baseUrl.optional(),
    /** The OAuth issuer identifier; defaults to publicUrl. */
    issuer: baseUrl.optional(),
    server: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8787),
        /** Reverse proxies whose `X-Forwarded-For` names the client (addresses or CIDR ranges); none by default. */
        trustedProxies: z.array(z.string().regex(/^[0-9A-Fa-f:.]+(?:\/\d{1,3})?$/, 'must be an IP address or a CIDR range')).default([]),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8787, trustedProxies: [] }),
    store: storeSchema.default({ type: 'memory' }),
    /** Encrypts the shared signing and cookie keys at rest. Required with a shared store. */
    encryptionKey: z.string().min(32, 'must be at least 32 characters').optional(),
    tenants: z.array(tenantSchema).min(1),
    /** Plans (tiers) of quota limits that tenants and agents are assigned (docs/quotas.md). */
    plans: z.array(planSchema).default([]),
    /** The tenant whose resource is <publicUrl>/mcp and which an authorization request without `resource` means. */
    defaultTenant: slug.default('default'),
    users: z.array(userSchema).default([]),
    /** Confidential clients allowed the client_credentials grant, each bound to one tenant. */
    clients: z.array(serviceClientSchema).default([]),
    tokens: z
      .object({
        accessTokenTtl: seconds.default(900),
        refreshTokenIdleTtl: seconds.default(14 * 86400),
        refreshTokenAbsoluteTtl: seconds.default(90 * 86400),
        signingKeyRotation: seconds.default(30 * 86400),
      })
      .strict()
      .default({ accessTokenTtl: 900, refreshTokenIdleTtl: 14 * 86400, refreshTokenAbsoluteTtl: 90 * 86400, signingKeyRotation: 30 * 86400 }),
    /** The downstream MCP sessions each gateway process holds. */
    mcp: z
      .object({
        /** A session unused this long is closed, with its upstream sessions. */
        sessionIdleTimeout: seconds.default(1800),
        /** Most sessions one process holds; an initialize beyond it is refused with 503. */
        maxSessions: z.number().int().positive().default(10_000),
        /** Interval of SSE keep-alive comments on idle streams, shorter than the idle timeout of any proxy in between. */
        keepAliveMs: z.number().int().min(100).default(15_000),
      })
      .strict()
      .default({ sessionIdleTimeout: 1800, maxSessions: 10_000, keepAliveMs: 15_000 }),
    /** The admin API (/admin/v1); refused entirely while no admin token is configured. */
    admin: z
      .object({
        tokens: z
          .array(
            z
              .object({
                /** Names the token in logs. */
                name: z.string().min(1).max(100),
                /** SHA-256 of the token, base64url, as printed by `portcullis admin-token`. The token itself is never stored. */
                tokenHash: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be the base64url SHA-256 printed by `portcullis admin-token`'),
                /** `["*"]` for a global admin, or the ids of the tenants this token administers. */
                tenants: z.array(z.union([z.literal('*'), slug])).min(1),
              })
              .strict(),
          )
          .default([]),
      })
      .strict()
      .default({ tokens: [] }),
    registration: z.object({ enabled: z.boolean().default(true) }).strict().default({ enabled: true }),
    /** Abuse limits of the authorization server's endpoints (docs/quotas.md). */
    rateLimits: rateLimitsSchema.prefault({}),
    clientMetadataDocuments: z
      .object({
        enabled: z.boolean().default(true),
        /** For tests only: lets metadata documents be fetched from loopback addresses. */
        allowLoopback: z.boolean().default(false),
        timeoutMs: z.number().int().positive().max(30_000).default(5000),
        maxBytes: z.number().int().positive().max(1024 * 1024).default(5120),
        cacheMaxSeconds: seconds.default(3600),
      })
      .strict()
      .default({ enabled: true, allowLoopback: false, timeoutMs: 5000, maxBytes: 5120, cacheMaxSeconds: 3600 }),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  })
  .strict()
  .superRefine((config, ctx) => {
    refineUnique(ctx, config.tenants, { list: 'tenants', field: 'id', what: 'tenant id' }, (tenant) => tenant.id);
    refineUnique(ctx, config.users, { list: 'users', field: 'username', what: 'username' }, (user) => user.username);
    refineUnique(ctx, config.clients, { list: 'clients', field: 'clientId', what: 'client id' }, (client) => client.clientId);
    refineUnique(ctx, config.plans, { list: 'plans', field: 'id', what: 'plan id' }, (plan) => plan.id);
    const plans = new Set(config.plans.map((plan) => plan.id));
    config.tenants.forEach((tenant, index) => {
      for (const { plan, path } of planReferences(tenant.quotas)) {
        if (!plans.has(plan)) ctx.addIssue({ code: 'custom', path: ['tenants', index, ...path], message: `no plan has the id "${plan}"` });
      }
    });
    const ids = new Set(config.tenants.map((tenant) => tenant.id));
    if (!ids.has(config.defaultTenant)) ctx.addIssue({ code: 'custom', path: ['defaultTenant'], message: `no tenant has the id "${config.defaultTenant}"` });
    config.users.forEach((user, index) => {
      user.tenants.forEach((tenant, t) => {
        if (!ids.has(tenant)) ctx.addIssue({ code: 'custom', path: ['users', index, 'tenants', t], message: `no tenant has the id "${tenant}"` });
      });
    });
    config.clients.forEach((client, index) => {
      if (!ids.has(client.tenant)) ctx.addIssue({ code: 'custom', path: ['clients', index, 'tenant'], message: `no tenant has the id "${client.tenant}"` });
    });
    if (config.store.type !== 'memory' && config.encryptionKey === undefined) {
      ctx.addIssue({ code: 'custom', path: ['encryptionKey'], message: 'is required with a shared store, so every replica can read the shared keys' });
    }
  });

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type TenantConfig = Config['tenants'][number];
export type UpstreamConfig = TenantConfig['upstreams'][number];
