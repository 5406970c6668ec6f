/** Precision and recall per detector type over a labeled corpus. */
import { parsePath, type Finding } from '../../../guardrails/index.js';
import type { Label, Sample } from './build.js';

export interface Score {
  type: string;
  labels: number;
  found: number;
  predictions: number;
  falsePositives: number;
  precision: number;
  recall: number;
}

export interface Miss {
  kind: string;
  type: string;
  text: string;
  sample: unknown;
}

const overlaps = (f: Finding, l: Label): boolean => f.path === l.path && f.start < l.end && l.start < f.end;

/**
 * A prediction of type T is a true positive if it overlaps a label of type T, or a label that lists T in `also`;
 * otherwise a false positive. A label of type T is found if some prediction of type T overlaps it.
 */
export function score(types: readonly string[], samples: readonly Sample[], run: (value: unknown) => Finding[]): { scores: Score[]; misses: Miss[] } {
  const acc = new Map(types.map((t) => [t, { labels: 0, found: 0, predictions: 0, falsePositives: 0 }]));
  const misses: Miss[] = [];
  const textAt = (value: unknown, f: { path: string; start: number; end: number }): string => {
    let v: unknown = value;
    for (const s of parsePath(f.path) ?? []) v = (v as Record<string | number, unknown>)[s];
    return typeof v === 'string' ? `${f.path} ${v.slice(f.start, f.end)}` : `${f.path}[${f.start},${f.end})`;
  };
  for (const sample of samples) {
    const findings = run(sample.value);
    for (const l of sample.labels) {
      const a = acc.get(l.type);
      if (!a) throw new Error(`corpus label of unknown type ${l.type}`);
      a.labels++;
      if (findings.some((f) => f.type === l.type && overlaps(f, l))) a.found++;
      else misses.push({ kind: `FN ${sample.kind}`, type: l.type, text: textAt(sample.value, l), sample: sample.value });
    }
    for (const f of findings) {
      const a = acc.get(f.type);
      if (!a) continue;
      a.predictions++;
      const ok = sample.labels.some((l) => overlaps(f, l) && (l.type === f.type || (l.also ?? []).includes(f.type)));
      if (!ok) {
        a.falsePositives++;
        misses.push({ kind: `FP ${sample.kind}`, type: f.type, text: textAt(sample.value, f), sample: sample.value });
      }
    }
  }
  const scores = types.map((type) => {
    const a = acc.get(type) ?? { labels: 0, found: 0, predictions: 0, falsePositives: 0 };
    const precision = a.predictions === 0 ? 1 : (a.predictions - a.falsePositives) / a.predictions;
    const recall = a.labels === 0 ? 1 : a.found / a.labels;
    return { type, ...a, precision, recall };
  });
  return { scores, misses };
}
