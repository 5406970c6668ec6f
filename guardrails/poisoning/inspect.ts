/**
 * Tool-poisoning inspection of one MCP tool definition: every string in it (name, title, description, and every
 * string value and member name in inputSchema, outputSchema and annotations) is scanned by the poisoning detectors
 * and by the injection detectors, whose findings are re-typed `poisoning.<kind>` (`injection.hidden` →
 * `poisoning.hidden`). Paths are RFC 9535 normalized paths into the definition.
 *
 * When a definition shows two or more different kinds (say an `<IMPORTANT>` tag and `~/.ssh/id_rsa`, or a
 * "do not tell the user" and a rule for another tool) at confidence ≥ 0.45, each of those findings is raised to at
 * least 0.9: one cue alone may be innocent wording, several together are the known attack.
 *
 * The walk is local and bounded: depth ≤ MAX_DEPTH, ≤ MAX_NODES values, ≤ MAX_CHARS characters of strings. Past a
 * bound the walk stops and a `poisoning.oversized` finding (at the node where it stopped, span 0..0) says so.
 */
import type { Detector, Finding, Match, ToolDefinition } from '../types.js';
import { injectionDetectors } from '../injection/index.js';
import { poisoningDetectors } from './detectors.js';

export const MAX_DEPTH = 64;
export const MAX_NODES = 20_000;
export const MAX_CHARS = 1_048_576;
const COMBINED = 0.9;
/** Findings below this (mentions, weak cues) neither count towards nor get the combination raise. */
const COUNTS_FROM = 0.45;

/** One member name in an RFC 9535 normalized path: `['name']` with `\\`, `\'` and control characters escaped. */
export function pathSegment(name: string | number): string {
  if (typeof name === 'number') return `[${name}]`;
  let out = "['";
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x5c) out += '\\\\';
    else if (c === 0x27) out += "\\'";
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += name[i];
  }
  return `${out}']`;
}

const DETECTORS: readonly Detector[] = [...poisoningDetectors, ...injectionDetectors];

function retype(m: Match, d: Detector): { type: string; detector: string } {
  if (d.category === 'poisoning') return { type: m.type, detector: d.id };
  const kind = m.type.slice(m.type.indexOf('.') + 1);
  return { type: `poisoning.${kind}`, detector: d.id };
}

function scanString(text: string, path: string, key: boolean, out: Finding[]): void {
  for (const d of DETECTORS) {
    for (const m of d.scan(text)) {
      const { type, detector } = retype(m, d);
      const f: Finding = { type, start: m.start, end: m.end, confidence: m.confidence, detector, category: 'poisoning', path };
      if (key) f.key = true;
      out.push(f);
    }
  }
}

interface Frame {
  value: unknown;
  path: string;
  depth: number;
  /** The member name this value is under, scanned when the frame is taken (so findings come in document order). */
  key?: string;
}

/** Scans a tool definition for poisoning; returns findings (never the matched text). */
export function inspectToolDefinition(tool: ToolDefinition): Finding[] {
  const out: Finding[] = [];
  const stack: Frame[] = [];
  const top: readonly (keyof ToolDefinition)[] = ['annotations', 'outputSchema', 'inputSchema', 'description', 'title', 'name'];
  for (const k of top) if (tool[k] !== undefined) stack.push({ value: tool[k], path: `$${pathSegment(k)}`, depth: 1 });
  let nodes = 0;
  let chars = 0;
  const over = (path: string): void => {
    out.push({ type: 'poisoning.oversized', start: 0, end: 0, confidence: 0.5, detector: 'poisoning.walker', category: 'poisoning', path });
  };
  while (stack.length > 0) {
    const { value, path, depth, key } = stack.pop() as Frame;
    if (++nodes > MAX_NODES || depth > MAX_DEPTH) {
      over(path);
      break;
    }
    if (key !== undefined) {
      chars += key.length;
      if (chars > MAX_CHARS) {
        over(path);
        break;
      }
      scanString(key, path, true, out);
    }
    if (typeof value === 'string') {
      chars += value.length;
      if (chars > MAX_CHARS) {
        over(path);
        break;
      }
      scanString(value, path, false, out);
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: path + pathSegment(i), depth: depth + 1 });
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, v] = entries[i] as [string, unknown];
        stack.push({ value: v, path: path + pathSegment(k), depth: depth + 1, key: k });
      }
    }
  }
  const counts = (f: Finding): boolean => f.type !== 'poisoning.oversized' && f.confidence >= COUNTS_FROM;
  const kinds = new Set(out.filter(counts).map((f) => f.type));
  if (kinds.size >= 2) for (const f of out) if (counts(f)) f.confidence = Math.max(f.confidence, COMBINED);
  return out;
}
