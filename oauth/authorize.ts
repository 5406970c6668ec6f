import type { Context } from 'hono';
import { Hono } from 'hono';
import type { BrowserSession } from './browser-session.js';
import type { Client } from './clients.js';
import { ENDPOINTS, enforceLimit, type ServerContext } from './context.js';
import { randomToken, secretsEqual, tokenHash } from './crypto.js';
import { OAuthError } from './errors.js';
import { Params, readForm } from './http.js';
import { renderConsentPage, renderErrorPage, renderLoginPage } from './pages.js';
import { classifyRedirectUri, redirectUriMatches } from './redirect-uri.js';
import type { ProtectedResource } from './types.js';

/** An authorization request that passed validation and waits for the user (login and consent). */
interface PendingRequest {
  clientId: string;
  redirectUri: string;
  /** Whether the client sent redirect_uri; if it did, the token request must repeat it (RFC 6749 §4.1.3). */
  redirectUriSent: boolean;
  state?: string;
  codeChallenge: string;
  resource: string;
  scopes: string[];
  /** prompt=consent: ask even when the user already consented (OpenID Connect Core §3.1.2.1). */
  forceConsent: boolean;
  /** prompt=none: never show a page; fail with login_required or consent_required instead. */
  promptNone: boolean;
  /** The browser that started the request; forms from any other browser are refused (login CSRF). */
  bid: string;
  csrf: string;
}

const PENDING_TTL_SECONDS = 600;
const OFFLINE_ACCESS = 'offline_access';
const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const pendingKey = (id: string) => `authreq:${id}`;

/** A failure after the redirect URI is known: the user agent goes back to the client with the error. */
class RedirectableError extends Error {
  constructor(
    readonly error: OAuthError,
    readonly redirectUri: string,
    readonly state: string | undefined,
  ) {
    super(error.message);
  }
}

/**
 * The authorization endpoint (OAuth 2.1 §4.1.1) with its login and consent steps. Errors found before the
 * client and redirect URI are validated are shown on an error page and never redirect (RFC 6749 §4.1.2.1).
 */
export function authorizationEndpoint(ctx: ServerContext): Hono {
  const app = new Hono();

  const start = async (c: Context, params: () => Promise<Params>) => {
    await enforceLimit(c, ctx, 'authorize', 'ip');
    const request = await validateRequest(ctx, await params());
    await enforceLimit(c, ctx, 'authorize', 'client', request.clientId);
    const { tenant, forceLogin, ...fields } = request;
    const session = await ctx.sessions.read(c);
    const pending: PendingRequest = { ...fields, bid: session.bid, csrf: randomToken() };
    const id = randomToken();
    await ctx.storage.set(pendingKey(id), pending, PENDING_TTL_SECONDS);
    const signedIn = session.sub !== undefined && !forceLogin && (await ctx.users.isMember(session.sub, tenant));
    if (!signedIn) {
      if (pending.promptNone) throw new RedirectableError(new OAuthError('login_required', 'the user is not signed in'), pending.redirectUri, pending.state);
      await ctx.sessions.write(c, { bid: session.bid });
      return loginPage(c, id, pending, {});
    }
    return consentStep(c, id, pending, session);
  };

  app.get(ENDPOINTS.authorization, (c) => handle(c, () => start(c, async () => new Params(new URL(c.req.url).searchParams))));
  app.post(ENDPOINTS.authorization, (c) => handle(c, () => start(c, () => readForm(c))));

  app.post(ENDPOINTS.login, (c) =>
    handle(c, async () => {
      const { id, pending, session, form } = await resume(c);
      const username = form.get('username') ?? '';
      const throttle = await loginThrottle(ctx, c, username);
      if (throttle.blocked) {
        c.header('Retry-After', String(throttle.retryAfter));
        return loginPage(c, id, pending, { username, error: 'Too many failed sign-in attempts. Try again in a few minutes.' }, 429);
      }
      const user = await ctx.users.authenticate(username, form.get('password') ?? '');
      if (!user) {
        await throttle.fail();
        return loginPage(c, id, pending, { username, error: 'Incorrect username or password.' }, 401);
      }
      const resource = resourceOf(pending);
      if (!(await ctx.users.isMember(user.sub, resource.tenant))) {
        ctx.logger.info({ sub: user.sub, tenant: resource.tenant }, 'login refused: user is not a member of the tenant');
        return loginPage(c, id, pending, { username: form.get('username') ?? '', error: `This account has no access to ${resource.tenantName}.` }, 403);
      }
      const signedIn = { bid: session.bid, sub: user.sub, authTime: Math.floor(ctx.now() / 1000) };
      await ctx.sessions.write(c, signedIn);
      return consentStep(c, id, pending, { ...signedIn, exp: session.exp });
    }),
  );

  app.post(ENDPOINTS.consent, (c) =>
    handle(c, async () => {
      const { id, pending, session, form } = await resume(c);
      if (session.sub === undefined || !(await ctx.users.isMember(session.sub, resourceOf(pending).tenant))) {
        return loginPage(c, id, pending, { error: 'Please sign in again.' }, 401);
      }
      // take, not delete: of two concurrent submissions of one form only one may issue a code.
      if ((await ctx.storage.take(pendingKey(id))) === undefined) throw new OAuthError('invalid_request', 'this sign-in request was already completed; start again from the application');
      const decision = form.get('decision');
      if (decision !== 'allow') {
        throw new RedirectableError(new OAuthError('access_denied', 'the user denied the request'), pending.redirectUri, pending.state);
      }
      await rememberConsent(ctx, pending, session.sub);
      return issueCode(c, pending, session.sub, 303);
    }),
  );

  /** Reads the posted form of a pending request and checks it comes from the browser that started it. */
  async function resume(c: Context): Promise<{ id: string; pending: PendingRequest; session: BrowserSession; form: Params }> {
    const form = await readForm(c);
    const id = form.get('request_id') ?? '';
    const pending = id ? await ctx.storage.get<PendingRequest>(pendingKey(id)) : undefined;
    if (!pending) throw new OAuthError('invalid_request', 'this sign-in request has expired; start again from the application');
    const session = await ctx.sessions.read(c);
    const csrf = form.get('csrf_token') ?? '';
    if (session.bid !== pending.bid || !(await secretsEqual(csrf, pending.csrf))) {
      throw new OAuthError('invalid_request', 'the form could not be verified; start again from the application', { status: 403 });
    }
    return { id, pending, session, form };
  }

  function resourceOf(pending: PendingRequest): ProtectedResource {
    const resource = ctx.resources.byResource(pending.resource);
    if (!resource) throw new OAuthError('invalid_target', 'the resource is no longer served');
    return resource;
  }

  async function consentStep(c: Context, id: string, pending: PendingRequest, session: BrowserSession): Promise<Response> {
    const sub = session.sub!;
    const client = await ctx.clients.find(pending.clientId);
    if (!pending.forceConsent && (await consentCovers(ctx, pending, sub)) && identityProvable(client, pending)) {
      await ctx.storage.delete(pendingKey(id));
      return issueCode(c, pending, sub, c.req.method === 'POST' ? 303 : 302);
    }
    if (pending.promptNone) throw new RedirectableError(new OAuthError('consent_required', 'the user has not consented'), pending.redirectUri, pending.state);
    const resource = resourceOf(pending);
    const user = await ctx.users.find(sub);
    const descriptions = new Map(resource.scopes.map((scope) => [scope.name, scope.description]));
    descriptions.set(OFFLINE_ACCESS, 'Stay connected when you are away (refresh tokens)');
    const nonce = pageHeaders(c);
    return c.html(
      renderConsentPage(
        {
          requestId: id,
          csrfToken: pending.csrf,
          action: ctx.baseUrl + ENDPOINTS.consent,
          tenantName: resource.tenantName,
          userName: user?.name ?? sub,
          clientName: client?.metadata.client_name ?? pending.clientId,
          clientId: pending.clientId,
          clientIdIsUrl: client?.kind === 'metadata-document',
          redirectHost: redirectHost(pending.redirectUri),
          scopes: pending.scopes.map((name) => ({ name, ...(descriptions.get(name) !== undefined && { description: descriptions.get(name)! }) })),
          resource: resource.resource,
        },
        { nonce },
      ),
    );
  }

  async function loginPage(c: Context, id: string, pending: PendingRequest, extra: { username?: string; error?: string }, status: 200 | 401 | 403 | 429 = 200) {
    const client = await ctx.clients.find(pending.clientId);
    const nonce = pageHeaders(c);
    return c.html(
      renderLoginPage(
        {
          requestId: id,
          csrfToken: pending.csrf,
          action: ctx.baseUrl + ENDPOINTS.login,
          tenantName: resourceOf(pending).tenantName,
          clientName: client?.metadata.client_name ?? pending.clientId,
          ...extra,
        },
        { nonce },
      ),
      status,
    );
  }

  async function issueCode(c: Context, pending: PendingRequest, sub: string, status: 302 | 303): Promise<Response> {
    const resource = resourceOf(pending);
    const code = await ctx.grants.createCode({
      clientId: pending.clientId,
      redirectUri: pending.redirectUri,
      redirectUriSent: pending.redirectUriSent,
      codeChallenge: pending.codeChallenge,
      resource: resource.resource,
      tenant: resource.tenant,
      scope: pending.scopes.join(' '),
      sub,
    });
    return c.redirect(responseUrl(pending.redirectUri, { code, state: pending.state, iss: ctx.issuer }), status);
  }

  async function handle(c: Context, step: () => Promise<Response>): Promise<Response> {
    try {
      return await step();
    } catch (error) {
      if (error instanceof RedirectableError) {
        const { code, description } = error.error;
        return c.redirect(responseUrl(error.redirectUri, { error: code, error_description: description, state: error.state, iss: ctx.issuer }), c.req.method === 'GET' ? 302 : 303);
      }
      if (!(error instanceof OAuthError)) throw error;
      const nonce = pageHeaders(c);
      for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
      c.header('Cache-Control', 'no-store');
      return c.html(renderErrorPage({ title: 'This request cannot be completed', error: error.code, description: error.description }, { nonce }), error.status === 401 ? 400 : error.status);
    }
  }

  return app;
}

interface ValidatedRequest extends Omit<PendingRequest, 'bid' | 'csrf'> {
  tenant: string;
  forceLogin: boolean;
}

/** Validates an authorization request in the order RFC 6749 §4.1.2.1 requires: client and redirect URI first. */
async function validateRequest(ctx: ServerContext, params: Params): Promise<ValidatedRequest> {
  const clientId = params.get('client_id');
  if (clientId === undefined) throw new OAuthError('invalid_request', 'the client_id parameter is missing');
  const client = await ctx.clients.find(clientId);
  if (!client) throw new OAuthError('invalid_client', 'the client is not registered');
  const redirectUri = resolveRedirectUri(client, params.get('redirect_uri'));

  // From here on the client is known to own the redirect URI, so errors go back to it.
  let state: string | undefined;
  try {
    state = params.get('state');
  } catch {
    state = undefined;
  }
  try {
    params.assertNoneRepeated();
    return { ...validateGrantRequest(ctx, client, params), clientId, redirectUri, redirectUriSent: params.get('redirect_uri') !== undefined, ...(state !== undefined && { state }) };
  } catch (error) {
    if (error instanceof OAuthError) throw new RedirectableError(error, redirectUri, state);
    throw error;
  }
}

function resolveRedirectUri(client: Client, presented: string | undefined): string {
  const registered = client.metadata.redirect_uris;
  if (presented === undefined) {
    // OAuth 2.1 §4.1.1: optional only when exactly one redirect URI is registered.
    if (registered.length === 1) return registered[0]!;
    throw new OAuthError('invalid_request', 'the redirect_uri parameter is missing');
  }
  if (!registered.some((uri) => redirectUriMatches(uri, presented))) {
    throw new OAuthError('invalid_request', 'the redirect_uri is not registered for this client');
  }
  return presented;
}

function validateGrantRequest(ctx: ServerContext, client: Client, params: Params) {
  const responseType = params.get('response_type');
  if (responseType === undefined) throw new OAuthError('invalid_request', 'the response_type parameter is missing');
  if (responseType !== 'code') throw new OAuthError('unsupported_response_type', 'only response_type=code is supported');
  if (!client.metadata.grant_types.includes('authorization_code')) {
    throw new OAuthError('unauthorized_client', 'the client may not use the authorization code grant');
  }
  const codeChallenge = params.get('code_challenge');
  if (codeChallenge === undefined) throw new OAuthError('invalid_request', 'PKCE is required: the code_challenge parameter is missing');
  const method = params.get('code_challenge_method') ?? 'plain';
  if (method !== 'S256') throw new OAuthError('invalid_request', 'code_challenge_method must be S256');
  if (!CODE_CHALLENGE.test(codeChallenge)) throw new OAuthError('invalid_request', 'code_challenge must be a base64url SHA-256 digest');

  const resource = findResource(ctx, params.get('resource'));
  const scopes = grantedScopes(resource, params.get('scope'), { offlineAccess: client.metadata.grant_types.includes('refresh_token') });
  const prompt = new Set((params.get('prompt') ?? '').split(' ').filter(Boolean));
  if (prompt.has('none') && prompt.size > 1) throw new OAuthError('invalid_request', 'prompt=none cannot be combined with other values');
  return {
    codeChallenge,
    resource: resource.resource,
    tenant: resource.tenant,
    scopes,
    forceConsent: prompt.has('consent'),
    forceLogin: prompt.has('login'),
    promptNone: prompt.has('none'),
  };
}

/** The resource of an authorization request (RFC 8707 §2); an omitted one means the default tenant's. */
export function findResource(ctx: ServerContext, requested: string | undefined): ProtectedResource {
  if (requested === undefined) return ctx.resources.defaultResource();
  const resource = ctx.resources.byResource(requested);
  if (!resource) throw new OAuthError('invalid_target', 'the resource is not served by this authorization server');
  return resource;
}

/**
 * The scopes to grant: those requested, each of which must be defined for the resource, plus the resource's
 * base scope. `offline_access` is accepted from clients that may hold refresh tokens.
 */
export function grantedScopes(resource: ProtectedResource, requested: string | undefined, options: { offlineAccess: boolean }): string[] {
  const known = new Set(resource.scopes.map((scope) => scope.name));
  const scopes = new Set([resource.baseScope]);
  for (const scope of (requested ?? '').split(' ').filter(Boolean)) {
    if (!known.has(scope) && !(scope === OFFLINE_ACCESS && options.offlineAccess)) {
      throw new OAuthError('invalid_scope', `the scope ${scope} is not available for this resource`);
    }
    scopes.add(scope);
  }
  return [...scopes];
}

/**
 * Whether the redirect URI proves the client's identity. A public client redirecting to a loopback port or a
 * private-use scheme could be any app on the device, so remembered consent must not be reused for it
 * (RFC 8252 §8.6): the user is asked every time.
 */
function identityProvable(client: Client | undefined, pending: PendingRequest): boolean {
  return client !== undefined && (client.metadata.token_endpoint_auth_method !== 'none' || classifyRedirectUri(pending.redirectUri) === 'https');
}

const LOGIN_WINDOW_SECONDS = 900;
const LOGIN_FAILURES_PER_IP = 30;
const LOGIN_FAILURES_PER_USERNAME = 10;

/**
 * Failed sign-ins are counted per client address and per username in fixed 15-minute windows; past either
 * limit no password is checked, which bounds both guessing and the PBKDF2 work an attacker can cause.
 */
async function loginThrottle(ctx: ServerContext, c: Context, username: string): Promise<{ blocked: boolean; retryAfter: number; fail(): Promise<void> }> {
  const window = Math.floor(ctx.now() / 1000 / LOGIN_WINDOW_SECONDS);
  const ipKey = `ratelimit:login:ip:${ctx.clientIp(c) ?? 'unknown'}:${window}`;
  const userKey = `ratelimit:login:user:${await tokenHash(username)}:${window}`;
  const [byIp, byUser] = await Promise.all([ctx.storage.get<number>(ipKey), ctx.storage.get<number>(userKey)]);
  return {
    blocked: (byIp ?? 0) >= LOGIN_FAILURES_PER_IP || (byUser ?? 0) >= LOGIN_FAILURES_PER_USERNAME,
    retryAfter: LOGIN_WINDOW_SECONDS - (Math.floor(ctx.now() / 1000) % LOGIN_WINDOW_SECONDS),
    async fail() {
      await Promise.all([ctx.storage.increment(ipKey, 1, LOGIN_WINDOW_SECONDS), ctx.storage.increment(userKey, 1, LOGIN_WINDOW_SECONDS)]);
    },
  };
}

const consentKey = async (tenant: string, sub: string, clientId: string) => `consent:${tenant}:${await tokenHash(`${sub}\n${clientId}`)}`;

async function consentCovers(ctx: ServerContext, pending: PendingRequest, sub: string): Promise<boolean> {
  const tenant = ctx.resources.byResource(pending.resource)?.tenant ?? '';
  const granted = await ctx.storage.get<string[]>(await consentKey(tenant, sub, pending.clientId));
  return granted !== undefined && pending.scopes.every((scope) => granted.includes(scope));
}

async function rememberConsent(ctx: ServerContext, pending: PendingRequest, sub: string): Promise<void> {
  const tenant = ctx.resources.byResource(pending.resource)?.tenant ?? '';
  const key = await consentKey(tenant, sub, pending.clientId);
  const granted = (await ctx.storage.get<string[]>(key)) ?? [];
  await ctx.storage.set(key, [...new Set([...granted, ...pending.scopes])]);
}

/** Appends response parameters to the redirect URI's query (RFC 6749 §4.1.2), `iss` included (RFC 9207). */
function responseUrl(redirectUri: string, values: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(values)) if (value !== undefined) url.searchParams.append(name, value);
  return url.toString();
}

function redirectHost(redirectUri: string): string {
  const url = new URL(redirectUri);
  return url.host || url.protocol;
}

/** Security headers of every HTML page; returns the CSP nonce for the page's style block. */
function pageHeaders(c: Context): string {
  const nonce = randomToken(16);
  c.header('Content-Security-Policy', `default-src 'none'; style-src 'nonce-${nonce}'; img-src data:; base-uri 'none'; frame-ancestors 'none'`);
  c.header('X-Frame-Options', 'DENY');
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'no-referrer');
  c.header('Cache-Control', 'no-store');
  return nonce;
}
