/**
 * Redaction: a copy of a JSON value with each finding's span replaced by `[REDACTED:<type>]`. Works from the
 * findings' normalized paths (parsed into a trie), so untouched parts are copied without building any path.
 */
import { parsePath, type Segment } from './json-path.js';
import type { Finding } from './types.js';

interface Span {
  start: number;
  end: number;
  type: string;
}

interface Node {
  children: Map<Segment, Node>;
  value: Span[];
  key: Span[];
}

const newNode = (): Node => ({ children: new Map(), value: [], key: [] });

/** The marker that replaces a redacted span. */
export const marker = (type: string): string => `[REDACTED:${type}]`;

/**
 * Replaces each span of `text` by its marker. Overlapping spans merge into one marker carrying the type of the span
 * that starts first (the longer one on a tie). Spans are clamped to the string and widened so as not to split a
 * surrogate pair.
 */
export function redactString(text: string, spans: readonly Span[]): string {
  const fixed = spans
    .map((s) => {
      let start = Math.max(0, Math.min(text.length, Math.floor(s.start)));
      let end = Math.max(0, Math.min(text.length, Math.ceil(s.end)));
      if (start > 0 && isLow(text.charCodeAt(start)) && isHigh(text.charCodeAt(start - 1))) start--;
      if (end < text.length && end > 0 && isLow(text.charCodeAt(end)) && isHigh(text.charCodeAt(end - 1))) end++;
      return { start, end, type: s.type };
    })
    .filter((s) => s.end > s.start)
    .sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let pos = 0;
  for (let k = 0; k < fixed.length; ) {
    const first = fixed[k] as Span;
    let end = first.end;
    k++;
    while (k < fixed.length && (fixed[k] as Span).start < end) end = Math.max(end, (fixed[k++] as Span).end);
    out += text.slice(pos, first.start) + marker(first.type);
    pos = end;
  }
  return out + text.slice(pos);
}

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

function buildTrie(findings: readonly Finding[]): Node {
  const root = newNode();
  for (const f of findings) {
    const segments = parsePath(f.path);
    if (segments === null) throw new Error(`guardrails: cannot redact, ${JSON.stringify(f.path)} is not a normalized path`);
    let node = root;
    for (const s of segments) {
      let child = node.children.get(s);
      if (!child) {
        child = newNode();
        node.children.set(s, child);
      }
      node = child;
    }
    (f.key === true ? node.key : node.value).push({ start: f.start, end: f.end, type: f.type });
  }
  return root;
}

function setOwn(target: Record<string, unknown>, name: string, value: unknown): void {
  // defineProperty, not assignment: a member named "__proto__" stays a member.
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

/** New names for an object's members: redacted names, made unique with `#2`, `#3`… if they collide. */
function memberNames(names: readonly string[], node: Node | undefined): string[] {
  if (!node || ![...node.children.values()].some((c) => c.key.length > 0)) return [...names];
  const redacted = names.map((n) => {
    const spans = node.children.get(n)?.key ?? [];
    return spans.length > 0 ? redactString(n, spans) : null;
  });
  const taken = new Set(names.filter((_, k) => redacted[k] === null));
  return names.map((n, k) => {
    const r = redacted[k];
    if (r === null || r === undefined) return n;
    let name = r;
    for (let suffix = 2; taken.has(name); suffix++) name = `${r}#${suffix}`;
    taken.add(name);
    return name;
  });
}

type Task = { src: unknown; node: Node | undefined; put: (v: unknown) => void };

/**
 * A deep copy of `value` (a parsed JSON value) with every finding redacted: spans in string values, in member names
 * (names stay unique), and in integers that were scanned as text (they become strings). Never mutates `value`.
 * Throws if a finding's path is not a normalized path. Findings whose path is not in `value` are ignored.
 */
export function redact(value: unknown, findings: readonly Finding[]): unknown {
  const root = buildTrie(findings);
  let result: unknown;
  const stack: Task[] = [{ src: value, node: root, put: (v) => (result = v) }];
  for (let task = stack.pop(); task !== undefined; task = stack.pop()) {
    const { src, node, put } = task;
    if (typeof src === 'string') {
      put(node && node.value.length > 0 ? redactString(src, node.value) : src);
    } else if (typeof src === 'number' && node && node.value.length > 0) {
      put(redactString(String(src), node.value));
    } else if (Array.isArray(src)) {
      const out: unknown[] = new Array<unknown>(src.length);
      put(out);
      for (let i = 0; i < src.length; i++) stack.push({ src: src[i], node: node?.children.get(i), put: (v) => (out[i] = v) });
    } else if (typeof src === 'object' && src !== null) {
      const out: Record<string, unknown> = {};
      put(out);
      const obj = src as Record<string, unknown>;
      const names = Object.keys(obj);
      const renamed = memberNames(names, node);
      // Define members in order now (values filled in later) so the copy keeps the original member order.
      names.forEach((n, k) => {
        const name = renamed[k] as string;
        setOwn(out, name, undefined);
        stack.push({ src: obj[n], node: node?.children.get(n), put: (v) => (out[name] = v) });
      });
    } else put(src);
  }
  return result;
}
