/**
 * Labeled samples: a JSON value (often just a string) and the spans in it that a detector should find, each at a
 * normalized path. `also` lists other types that may rightly report the same span (a GitHub token assigned to
 * `GITHUB_TOKEN=` is also a generic secret), so they are not counted as false positives.
 */
import { nameSelector } from '../../../guardrails/json-path.js';

export interface Label {
  path: string;
  start: number;
  end: number;
  type: string;
  also?: readonly string[];
}

export interface Sample {
  /** What kind of context this is (for reading failures): 'log', 'json', 'code', 'prose', … */
  kind: string;
  value: unknown;
  labels: Label[];
}

/** A labeled piece of text. */
export class Secret {
  constructor(
    readonly type: string,
    readonly value: string,
    readonly also: readonly string[] = [],
  ) {}
}

export const L = (type: string, value: string, ...also: string[]): Secret => new Secret(type, value, also);

/** A labeled JSON number (the walker scans long integers as their decimal text). */
export class LabeledNumber {
  constructor(
    readonly type: string,
    readonly value: number,
  ) {}
}
export const N = (type: string, value: number): LabeledNumber => new LabeledNumber(type, value);

export type Piece = string | Secret;

/** Text from pieces, with labels at path `$` (or `path`). */
export function text(pieces: readonly Piece[], path = '$'): { text: string; labels: Label[] } {
  let out = '';
  const labels: Label[] = [];
  for (const p of pieces) {
    if (typeof p === 'string') out += p;
    else {
      const label: Label = { path, start: out.length, end: out.length + p.value.length, type: p.type };
      if (p.also.length > 0) label.also = p.also;
      labels.push(label);
      out += p.value;
    }
  }
  return { text: out, labels };
}

/** Tagged template: t`Call ${L('pii.phone', n)} today` → pieces. */
export function t(strings: TemplateStringsArray, ...values: Piece[]): Piece[] {
  const pieces: Piece[] = [];
  strings.forEach((s, k) => {
    pieces.push(s);
    const v = values[k];
    if (v !== undefined) pieces.push(v);
  });
  return pieces;
}

export function textSample(kind: string, pieces: readonly Piece[]): Sample {
  const { text: value, labels } = text(pieces);
  return { kind, value, labels };
}

/** A string inside a JSON document built with `doc`: its pieces are labeled at the string's path. */
export class Labeled {
  constructor(readonly pieces: readonly Piece[]) {}
}
export const at = (...pieces: Piece[]): Labeled => new Labeled(pieces);

/** Materializes a document whose strings may be `Labeled` (or a bare `Secret`), collecting labels with paths. */
export function docSample(kind: string, template: unknown): Sample {
  const labels: Label[] = [];
  const walk = (v: unknown, path: string): unknown => {
    if (v instanceof Labeled) {
      const r = text(v.pieces, path);
      labels.push(...r.labels);
      return r.text;
    }
    if (v instanceof Secret) return walk(new Labeled([v]), path);
    if (v instanceof LabeledNumber) {
      labels.push({ path, start: 0, end: String(v.value).length, type: v.type });
      return v.value;
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`));
    if (typeof v === 'object' && v !== null) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, path + nameSelector(k))]));
    }
    return v;
  };
  return { kind, value: walk(template, '$'), labels };
}

export const negative = (kind: string, value: unknown): Sample => ({ kind, value, labels: [] });
