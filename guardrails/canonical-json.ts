import type { ToolDefinition } from './types.js';

/**
 * RFC 8785 JSON Canonicalization Scheme (JCS), for pinning tool definitions by hash.
 *
 * - Object members sorted by their names as arrays of UTF-16 code units (no locale, no normalization).
 * - Numbers serialized as ECMAScript `Number.prototype.toString` does (RFC 8785 §3.2.2.3); -0 is `0`; NaN and
 *   ±Infinity are rejected.
 * - Strings escaped as ECMAScript `JSON.stringify` does (§3.2.2.2): `\"`, `\\`, `\b \f \n \r \t`, other controls
 *   as `\u00xx` (lower-case hex), everything else as is. A lone surrogate is not I-JSON and is rejected.
 * - Only JSON data is accepted: null, booleans, finite numbers, strings, arrays, and plain objects. A member whose
 *   value is `undefined` is left out (as `JSON.stringify` does); `undefined` elsewhere, functions, symbols, bigints,
 *   class instances, cycles and nesting deeper than MAX_DEPTH throw a TypeError / RangeError.
 */

export const MAX_DEPTH = 512;

function escapeString(s: string, out: string[]): void {
  let buf = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) buf += '\\"';
    else if (c === 0x5c) buf += '\\\\';
    else if (c < 0x20) {
      if (c === 0x08) buf += '\\b';
      else if (c === 0x0c) buf += '\\f';
      else if (c === 0x0a) buf += '\\n';
      else if (c === 0x0d) buf += '\\r';
      else if (c === 0x09) buf += '\\t';
      else buf += `\\u${c.toString(16).padStart(4, '0')}`;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        buf += s[i] ?? '';
        buf += s[i + 1] ?? '';
        i++;
      } else throw new TypeError('canonicalJson: lone surrogate in string (not I-JSON)');
    } else buf += s[i] ?? '';
  }
  out.push(`${buf}"`);
}

/** Orders member names by UTF-16 code units (JS `<` on strings compares code units). */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function write(value: unknown, out: string[], depth: number, ancestors: Set<object>): void {
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      out.push(Object.is(value, -0) ? '0' : String(value));
      return;
    case 'string':
      escapeString(value, out);
      return;
    case 'object':
      break;
    default:
      throw new TypeError(`canonicalJson: ${typeof value} is not JSON`);
  }
  if (depth >= MAX_DEPTH) throw new RangeError(`canonicalJson: nesting deeper than ${MAX_DEPTH}`);
  const obj = value as object;
  if (ancestors.has(obj)) throw new TypeError('canonicalJson: cyclic value');
  ancestors.add(obj);
  if (Array.isArray(obj)) {
    out.push('[');
    for (let i = 0; i < obj.length; i++) {
      if (i > 0) out.push(',');
      const item: unknown = obj[i];
      if (item === undefined) throw new TypeError('canonicalJson: undefined in array');
      write(item, out, depth + 1, ancestors);
    }
    out.push(']');
  } else {
    if (!isPlainObject(obj)) throw new TypeError('canonicalJson: only plain objects are JSON');
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort(byCodeUnits);
    out.push('{');
    keys.forEach((k, i) => {
      if (i > 0) out.push(',');
      escapeString(k, out);
      out.push(':');
      write(obj[k], out, depth + 1, ancestors);
    });
    out.push('}');
  }
  ancestors.delete(obj);
}

/** The RFC 8785 canonical JSON text of `value`. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) throw new TypeError('canonicalJson: undefined is not JSON');
  const out: string[] = [];
  write(value, out, 0, new Set());
  return out.join('');
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** base64url without padding (RFC 4648 §5). */
export function base64url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64URL[(n >> 18) & 63]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]! + B64URL[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = (bytes[i] ?? 0) << 16;
    out += B64URL[(n >> 18) & 63]! + B64URL[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8);
    out += B64URL[(n >> 18) & 63]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]!;
  }
  return out;
}

/**
 * base64url(SHA-256(canonicalJson({name, title?, description?, inputSchema?, outputSchema?, annotations?}))).
 * Other members of `tool` (`_meta`, `icons`, …) are not part of the hash; absent or `undefined` members are left out.
 */
export async function definitionHash(tool: ToolDefinition): Promise<string> {
  const pinned: Record<string, unknown> = { name: tool.name };
  if (tool.title !== undefined) pinned['title'] = tool.title;
  if (tool.description !== undefined) pinned['description'] = tool.description;
  if (tool.inputSchema !== undefined) pinned['inputSchema'] = tool.inputSchema;
  if (tool.outputSchema !== undefined) pinned['outputSchema'] = tool.outputSchema;
  if (tool.annotations !== undefined) pinned['annotations'] = tool.annotations;
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonicalJson(pinned)));
  return base64url(new Uint8Array(digest));
}
