/** RFC 9535 normalized paths: `$['content'][0]['text']`, built by the walker and parsed back by `redact`. */

export type Segment = string | number;

const SHORT_ESCAPES: Readonly<Record<number, string>> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r', 39: "\\'", 92: '\\\\' };

const hex4 = (c: number): string => '\\u' + c.toString(16).padStart(4, '0');

/**
 * A member name as a normalized-path name selector (RFC 9535 §2.7): in single quotes; `\b \f \n \r \t \' \\` escaped
 * short, other control characters as `\u00xx` (lower-case hex), everything else as is. Lone surrogates, which I-JSON
 * excludes, are written as `\udxxx` so the path stays well-formed.
 */
export function nameSelector(name: string): string {
  let out = "['";
  let from = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    let esc: string | undefined;
    if (c < 0x20 || c === 39 || c === 92) esc = SHORT_ESCAPES[c] ?? hex4(c);
    else if (c >= 0xd800 && c <= 0xdbff) {
      const n = i + 1 < name.length ? name.charCodeAt(i + 1) : 0;
      if (n >= 0xdc00 && n <= 0xdfff) i++;
      else esc = hex4(c);
    } else if (c >= 0xdc00 && c <= 0xdfff) esc = hex4(c);
    if (esc !== undefined) {
      out += name.slice(from, i) + esc;
      from = i + 1;
    }
  }
  return out + name.slice(from) + "']";
}

/** One segment as a selector: `[3]` or `['name']`. */
export function selector(segment: Segment): string {
  return typeof segment === 'number' ? `[${segment}]` : nameSelector(segment);
}

/** The segments of a normalized path, or null if `path` is not one. Accepts the escapes `nameSelector` writes (and `\/`, `\"`). */
export function parsePath(path: string): Segment[] | null {
  if (path[0] !== '$') return null;
  const out: Segment[] = [];
  let i = 1;
  while (i < path.length) {
    if (path[i] !== '[') return null;
    i++;
    if (path[i] === "'") {
      i++;
      let name = '';
      for (;;) {
        const ch = path[i];
        if (ch === undefined) return null;
        if (ch === "'") break;
        if (ch !== '\\') {
          name += ch;
          i++;
          continue;
        }
        const e = path[i + 1];
        const simple: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', "'": "'", '\\': '\\', '/': '/', '"': '"' };
        if (e !== undefined && simple[e] !== undefined) {
          name += simple[e];
          i += 2;
        } else if (e === 'u') {
          const h = path.slice(i + 2, i + 6);
          if (h.length !== 4 || ![...h].every((x) => '0123456789abcdefABCDEF'.includes(x))) return null;
          name += String.fromCharCode(parseInt(h, 16));
          i += 6;
        } else return null;
      }
      i++;
      out.push(name);
    } else {
      const start = i;
      while (i < path.length && path.charCodeAt(i) >= 48 && path.charCodeAt(i) <= 57) i++;
      if (i === start || (i - start > 1 && path[start] === '0')) return null;
      out.push(Number(path.slice(start, i)));
    }
    if (path[i] !== ']') return null;
    i++;
  }
  return out;
}
