/**
 * The JSON walker: visits every string value and member name of a JSON value (iteratively, with an explicit stack,
 * in document order), runs the detectors on each, and places their matches at RFC 9535 normalized paths. It counts
 * the UTF-8 bytes it reads and stops at `maxBytes` or `maxDepth`, reporting `overLimit`.
 *
 * Cost: each string is read once by the byte counter and once by each detector (each linear), so the walk is linear
 * in the document's size. Paths are built only for findings (from parent links, each node's path at most once).
 */
import { selector, type Segment } from './json-path.js';
import type { Detector, Finding, Inspection, InspectionLimits, Match } from './types.js';

/** A node's place in the document; its path string is built on demand and cached. */
interface Place {
  parent: Place | null;
  segment: Segment | null;
  path?: string;
}

function pathOf(place: Place): string {
  const chain: Place[] = [];
  let p: Place | null = place;
  while (p !== null && p.path === undefined) {
    chain.push(p);
    p = p.parent;
  }
  let path = p?.path ?? '$';
  for (let k = chain.length - 1; k >= 0; k--) {
    const node = chain[k] as Place;
    path = node.segment === null ? '$' : path + selector(node.segment);
    node.path = path;
  }
  return path;
}

/** UTF-8 length of a JS string (a lone surrogate counts 3, as its U+FFFD replacement). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** Integers with at least this many digits are scanned as text too (`{"card": 4111111111111111}`). */
const MIN_SCANNED_INTEGER = 1_000_000;

type Task =
  | { kind: 'value'; value: unknown; place: Place; depth: number; member: string | null }
  | { kind: 'member'; object: Record<string, unknown>; name: string; place: Place; depth: number };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/**
 * Runs `detectors` over every string value and member name in `value` (a parsed JSON value). Safe non-negative
 * integers of 7+ digits are scanned as their decimal text. `depth` counts nested arrays/objects (the root container
 * is depth 1). Past either limit the walk stops and `overLimit` says which; the findings so far are returned.
 */
export function inspect(value: unknown, detectors: readonly Detector[], limits: InspectionLimits): Inspection {
  const findings: Finding[] = [];
  let bytes = 0;
  const scan = (text: string, place: Place, member: string | null, key: boolean): void => {
    for (const d of detectors) {
      const matches: Match[] = !key && member !== null && d.scanMember ? d.scanMember(member, text) : d.scan(text);
      for (const m of matches) {
        const f: Finding = { type: m.type, start: m.start, end: m.end, confidence: m.confidence, detector: d.id, category: d.category, path: pathOf(place) };
        if (key) f.key = true;
        findings.push(f);
      }
    }
  };
  const read = (text: string): boolean => {
    bytes += utf8Length(text);
    return bytes <= limits.maxBytes;
  };
  const stack: Task[] = [{ kind: 'value', value, place: { parent: null, segment: null, path: '$' }, depth: 0, member: null }];
  for (let task = stack.pop(); task !== undefined; task = stack.pop()) {
    if (task.kind === 'member') {
      const place: Place = { parent: task.place, segment: task.name };
      if (!read(task.name)) return { findings, overLimit: 'bytes' };
      scan(task.name, place, null, true);
      stack.push({ kind: 'value', value: task.object[task.name], place, depth: task.depth, member: task.name });
      continue;
    }
    const v = task.value;
    if (typeof v === 'string') {
      if (!read(v)) return { findings, overLimit: 'bytes' };
      scan(v, task.place, task.member, false);
    } else if (typeof v === 'number') {
      if (Number.isSafeInteger(v) && v >= MIN_SCANNED_INTEGER) {
        const text = String(v);
        if (!read(text)) return { findings, overLimit: 'bytes' };
        scan(text, task.place, task.member, false);
      }
    } else if (isObject(v)) {
      const depth = task.depth + 1;
      if (depth > limits.maxDepth) return { findings, overLimit: 'depth' };
      if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i--) {
          stack.push({ kind: 'value', value: v[i], place: { parent: task.place, segment: i }, depth, member: null });
        }
      } else {
        const names = Object.keys(v);
        for (let i = names.length - 1; i >= 0; i--) {
          stack.push({ kind: 'member', object: v, name: names[i] as string, place: task.place, depth });
        }
      }
    }
  }
  return { findings };
}
