import type { Context, MiddlewareHandler } from 'hono';
import { OAuthError } from './errors.js';

/** Largest request body any endpoint of the authorization server reads. */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * Reads a request body as text, refusing bodies over `maxBytes` with 413 before reading them whole (by
 * Content-Length when given, by counting otherwise).
 */
export async function readBody(c: Context, maxBytes = MAX_BODY_BYTES): Promise<string> {
  const declared = Number(c.req.header('content-length') ?? NaN);
  if (declared > maxBytes) throw tooLarge();
  // The HTTP layer holds a body to its declared length, so such a body is read whole, on the adapter's fast path.
  const bytes = Number.isSafeInteger(declared) && declared >= 0 ? new Uint8Array(await c.req.arrayBuffer()) : await readCapped(c, maxBytes);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new OAuthError('invalid_request', 'the request body is not valid UTF-8');
  }
}

/** Reads a body of unknown length, counting, and refuses it once it passes `maxBytes`. */
async function readCapped(c: Context, maxBytes: number): Promise<Uint8Array> {
  const body = c.req.raw.body;
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await discardRest(reader, size);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return concatBytes(chunks, size);
}

/** The chunks of a body read from a stream, in one array of `size` bytes (their total length). */
export function concatBytes(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

// Reading (and dropping) a moderately oversized body lets the client, still sending it, receive the 413; past this
// the connection is cut instead.
const DRAIN_LIMIT_BYTES = 1024 * 1024;

async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>, read: number): Promise<void> {
  for (let size = read; size <= DRAIN_LIMIT_BYTES; ) {
    const { done, value } = await reader.read();
    if (done) return;
    size += value.byteLength;
  }
  await reader.cancel();
}

function tooLarge(): OAuthError {
  return new OAuthError('invalid_request', 'the request body is too large', { status: 413 });
}

function mediaType(c: Context): string {
  return (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Request parameters with the rule of RFC 6749 §3.1: a parameter sent more than once is an error. Unknown
 * parameters are simply never read.
 */
export class Params {
  readonly #params: URLSearchParams;

  constructor(params: URLSearchParams) {
    this.#params = params;
  }

  /** The parameter's value; an empty value counts as absent (RFC 6749 §3.1). */
  get(name: string): string | undefined {
    const values = this.#params.getAll(name);
    if (values.length > 1) throw new OAuthError('invalid_request', `the ${name} parameter is repeated`);
    return values[0] === '' ? undefined : values[0];
  }

  require(name: string): string {
    const value = this.get(name);
    if (value === undefined) throw new OAuthError('invalid_request', `the ${name} parameter is missing`);
    return value;
  }

  /** The first parameter of the request that is repeated, if any. */
  repeated(): string | undefined {
    const seen = new Set<string>();
    for (const name of this.#params.keys()) {
      // `=x` or a bare `=` names no parameter, so it is never read and cannot be "repeated".
      if (name === '') continue;
      if (seen.has(name)) return name;
      seen.add(name);
    }
    return undefined;
  }

  /** Throws when any parameter is repeated. */
  assertNoneRepeated(): this {
    const name = this.repeated();
    // RFC 8707 §2 allows several resources; this server binds every token to exactly one.
    if (name === 'resource') throw new OAuthError('invalid_target', 'only one resource may be requested');
    if (name !== undefined) throw new OAuthError('invalid_request', `the ${name} parameter is repeated`);
    return this;
  }
}

/** Reads an `application/x-www-form-urlencoded` body (RFC 6749 §3.2). */
export async function readForm(c: Context): Promise<Params> {
  if (mediaType(c) !== 'application/x-www-form-urlencoded') {
    throw new OAuthError('invalid_request', 'the request body must be application/x-www-form-urlencoded');
  }
  return new Params(new URLSearchParams(await readBody(c))).assertNoneRepeated();
}

/** Reads a JSON object body; errors use `invalidCode` (RFC 7591 uses its own code for bad metadata). */
export async function readJsonObject(c: Context, invalidCode: 'invalid_request' | 'invalid_client_metadata'): Promise<Record<string, unknown>> {
  if (mediaType(c) !== 'application/json') throw new OAuthError(invalidCode, 'the request body must be application/json');
  let value: unknown;
  try {
    value = JSON.parse(await readBody(c));
  } catch (error) {
    if (error instanceof OAuthError) throw error;
    throw new OAuthError(invalidCode, 'the request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OAuthError(invalidCode, 'the request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/**
 * Runs a CORS middleware only for requests that carry an Origin (browsers); agents and servers send none and
 * skip its cost. `Vary: Origin` is kept on every response so caches never mix the two.
 */
export function corsForBrowsers(middleware: MiddlewareHandler): MiddlewareHandler {
  return async function cors(c, next) {
    if (c.req.header('origin') !== undefined) return middleware(c, next);
    await next();
    c.res.headers.append('Vary', 'Origin');
  };
}

/** Headers every response of the token, registration, revocation and introspection endpoints carries. */
export function noStore(c: Context): void {
  c.header('Cache-Control', 'no-store');
  c.header('Pragma', 'no-cache');
}
