import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../oauth/types.js';
import type { UpstreamConfig } from '../config/schema.js';

/**
 * JSON-RPC code of "an upstream failed to answer": it crashed or closed the connection, cannot be reached, or sent
 * something that is not a valid answer. In the implementation-defined server error range beside `NO_UPSTREAM`
 * (-32010); an upstream that is too slow gets the SDK's own request timeout code, -32001, instead.
 */
export const UPSTREAM_FAILED = -32011;

/** A request to an upstream whose connection closed earlier in this session (e.g. its stdio process exited). */
export class UpstreamUnavailable extends Error {}

/**
 * The JSON-RPC error a client gets when a request to an upstream fails. An upstream's own JSON-RPC error is relayed
 * as it was sent; a failure of the upstream itself names the upstream and what happened, and the details (which
 * may quote what the upstream sent) go to the log only.
 */
export function upstreamError(config: UpstreamConfig, error: unknown, logger: Logger): Error {
  const { id, timeoutMs } = config;
  if (error instanceof McpError && !isLocalTimeout(error) && !isLocalClose(error)) {
    // Not wrapped in the SDK's "MCP error <code>:" prefix.
    return protocolError(error.code, error.message.replace(/^MCP error -?\d+: /, ''), error.data);
  }
  logger.warn({ upstream: id, err: error }, 'a request to an upstream failed');
  const failed = (what: string) => protocolError(UPSTREAM_FAILED, `upstream "${id}" ${what}`, { upstream: id });
  if (error instanceof McpError && isLocalTimeout(error)) {
    if (isTotalTimeout(error)) return protocolError(ErrorCode.RequestTimeout, `upstream "${id}" did not finish within ${config.maxTotalTimeoutMs} ms`, { upstream: id, maxTotalTimeoutMs: config.maxTotalTimeoutMs });
    return protocolError(ErrorCode.RequestTimeout, `upstream "${id}" did not answer within ${timeoutMs} ms`, { upstream: id, timeoutMs });
  }
  if (error instanceof McpError) return failed('closed the connection before answering');
  if (error instanceof UpstreamUnavailable || (error instanceof Error && error.message === 'Not connected')) return failed('is unavailable (its connection is closed)');
  if (error instanceof StreamableHTTPError && error.code !== undefined && error.code > 0) return failed(`answered with HTTP status ${error.code}`);
  // Not JSON, not JSON-RPC, a result of the wrong shape, or an unexpected content type.
  if (error instanceof StreamableHTTPError || error instanceof SyntaxError || isSchemaError(error)) return failed('sent an invalid response');
  if (error instanceof TypeError && error.message === 'fetch failed') return failed('could not be reached');
  return failed('failed to answer');
}

/** An error the SDK sends as a JSON-RPC error with exactly this code, message and data. */
export function protocolError(code: number, message: string, data?: unknown): Error {
  return Object.assign(new Error(message), { code, ...(data !== undefined && { data }) });
}

/**
 * The SDK client's own timeouts (`Protocol.request`: `{timeout}` without an answer, or `{maxTotalTimeout,
 * totalElapsed}` in all), not an upstream's JSON-RPC error that happens to use -32001.
 */
function isLocalTimeout(error: McpError): boolean {
  const data = error.data as Record<string, unknown> | undefined;
  if (error.code !== ErrorCode.RequestTimeout || typeof data !== 'object' || data === null) return false;
  const keys = Object.keys(data).sort().join();
  return (keys === 'timeout' && typeof data['timeout'] === 'number') || isTotalTimeout(error);
}

function isTotalTimeout(error: McpError): boolean {
  const data = error.data as Record<string, unknown> | undefined;
  return typeof data === 'object' && data !== null && Object.keys(data).sort().join() === 'maxTotalTimeout,totalElapsed';
}

/** The SDK client's error for requests pending when the connection closed (a stdio child exited, for instance). */
function isLocalClose(error: McpError): boolean {
  return error.code === ErrorCode.ConnectionClosed && error.data === undefined && error.message === `MCP error ${ErrorCode.ConnectionClosed}: Connection closed`;
}

/** A failed schema check of what the upstream sent (zod 3 or 4, whichever the SDK used, both carry `issues`). */
function isSchemaError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && Array.isArray((error as { issues?: unknown }).issues);
}

/** A Streamable HTTP upstream answered 404 to a request in a session: it no longer knows the session. */
export function sessionExpired(error: unknown, client: Client): boolean {
  const transport = client.transport;
  return error instanceof StreamableHTTPError && error.code === 404 && transport instanceof StreamableHTTPClientTransport && transport.sessionId !== undefined;
}
