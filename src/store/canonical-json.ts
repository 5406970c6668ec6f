/**
 * Serialises a JSON value canonically: object keys sorted by UTF-16 code units at every depth, no whitespace,
 * numbers and strings as ECMAScript `JSON.stringify` writes them — the JSON Canonicalization Scheme
 * (RFC 8785 §3.2) for the JSON types Portcullis stores.
 *
 * Both stores write values with this function, so two equal values always have the same bytes and
 * compare-and-set can compare strings (in Redis: inside a Lua script, without parsing).
 *
 * Like `JSON.stringify`, `toJSON()` is honoured and `undefined`, functions and symbols are dropped from objects
 * and written as `null` in arrays. Unlike it, non-finite numbers throw (RFC 8785 §3.2.2.3) instead of silently
 * becoming `null`, and a top-level value with no JSON form throws instead of returning `undefined`.
 *
 * @throws TypeError when the value has no JSON representation.
 */
export function canonicalJson(value: unknown): string {
  const json = serialise(value);
  if (json === undefined) throw new TypeError(`A ${typeof value} value has no JSON representation`);
  return json;
}

function serialise(value: unknown): string | undefined {
  if (typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${value} is not a JSON number`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((item) => serialise(item) ?? 'null').join(',')}]`;
      const members: string[] = [];
      for (const key of Object.keys(value).sort()) {
        const member = serialise((value as Record<string, unknown>)[key]);
        if (member !== undefined) members.push(`${JSON.stringify(key)}:${member}`);
      }
      return `{${members.join(',')}}`;
    }
    case 'bigint':
      throw new TypeError('A bigint has no JSON representation');
    default:
      return undefined; // undefined, function, symbol: omitted, as JSON.stringify does
  }
}
