import type { Context } from 'hono';
import { Hono } from 'hono';
import { OAuthError } from '../../oauth/errors.js';
import { readBody } from '../../oauth/http.js';
import type { BearerVariables } from './bearer.js';

/**
 * JSON-RPC code of "this tenant reaches no MCP server", in the implementation-defined server error range; not
 * -32000 or -32001, which the MCP SDK uses for its own connection-closed and request-timeout errors.
 */
export const NO_UPSTREAM = -32010;
const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * The tenant's MCP endpoint. Until upstream connections exist it answers every authenticated JSON-RPC request
 * with an error saying no upstream is configured, and accepts notifications and responses with 202.
 */
export function mcpEndpoint(): Hono<{ Variables: BearerVariables }> {
  const app = new Hono<{ Variables: BearerVariables }>();
  app.post('/', async (c) => {
    let message: unknown;
    try {
      message = JSON.parse(await readBody(c, MAX_MESSAGE_BYTES));
    } catch (error) {
      if (error instanceof OAuthError && error.status === 413) return c.json(rpcError(null, INVALID_REQUEST, 'the message is too large'), 413);
      return c.json(rpcError(null, PARSE_ERROR, 'parse error: the body is not valid JSON'), 400);
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) return c.json(rpcError(null, INVALID_REQUEST, 'Invalid Request: expected one JSON-RPC message'), 400);
    const id = requestId(message);
    if (id === undefined) return c.body(null, 202);
    return c.json(rpcError(id, NO_UPSTREAM, `no upstream MCP server is configured for tenant ${c.get('tenant').config.id}`));
  });
  app.on(['GET', 'DELETE'], '/', (c: Context) => c.body(null, 405, { Allow: 'POST' }));
  return app;
}

function requestId(message: unknown): string | number | null | undefined {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return null;
  const { id, method } = message as { id?: unknown; method?: unknown };
  if (typeof method !== 'string') return undefined;
  if (typeof id === 'string' || typeof id === 'number') return id;
  return undefined;
}

function rpcError(id: string | number | null, code: number, message: string) {
  return { jsonrpc: '2.0' as const, id, error: { code, message } };
}
