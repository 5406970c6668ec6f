import { describe, expect, it } from 'vitest';
import { injectionDetectors } from '../../guardrails/index.js';
import { holdoutNegatives, holdoutPositives } from './corpus/injection-holdout.js';
import { injectionMentions, injectionNegatives } from './corpus/injection-negative.js';
import { injectionPositives, type Kind, type Sample } from './corpus/injection-positive.js';
import { Tally } from './metrics.js';

/** A finding counts at confidence ≥ OPERATING_POINT; mentions must stay under it. */
const OPERATING_POINT = 0.5;
const KINDS: readonly Kind[] = ['override', 'role', 'extraction', 'delimiter', 'hidden', 'encoded', 'exfiltration'];
/** Thresholds chosen from the measured table (see the report): precision first. */
const MIN_PRECISION = 0.95;
const MIN_RECALL = 0.9;
const HOLDOUT_MIN_PRECISION = 0.75;
const HOLDOUT_MIN_RECALL = 0.75;

function found(text: string, minConfidence: number): Set<string> {
  const out = new Set<string>();
  for (const d of injectionDetectors) for (const m of d.scan(text)) if (m.confidence >= minConfidence) out.add(m.type);
  return out;
}

const labelSet = (s: Sample): Set<string> => new Set(s.labels.map((k) => `injection.${k}`));

describe('injection corpus', () => {
  const tally = new Tally(KINDS.map((k) => `injection.${k}`));
  for (const s of [...injectionPositives, ...injectionNegatives, ...injectionMentions]) {
    tally.add(s.note, labelSet(s), found(s.text, OPERATING_POINT), found(s.text, Number.MIN_VALUE));
  }

  it('has a corpus of useful size', () => {
    expect(injectionPositives.length).toBeGreaterThanOrEqual(70);
    expect(injectionNegatives.length + injectionMentions.length).toBeGreaterThanOrEqual(70);
  });

  it(`meets precision ≥ ${MIN_PRECISION} and recall ≥ ${MIN_RECALL} per type at confidence ≥ ${OPERATING_POINT}`, () => {
    console.log(`${tally.table(`injection corpus: ${injectionPositives.length} positive, ${injectionNegatives.length} negative, ${injectionMentions.length} mention samples`)}\n${tally.misses.join('\n')}`);
    for (const k of KINDS) {
      const row = tally.get(`injection.${k}`);
      expect(Tally.precision(row), `precision ${k}`).toBeGreaterThanOrEqual(MIN_PRECISION);
      expect(Tally.recall(row), `recall ${k}`).toBeGreaterThanOrEqual(MIN_RECALL);
    }
  });

  it('held-out set (not tuned against): reported, with looser floors', () => {
    const held = new Tally(KINDS.map((k) => `injection.${k}`));
    for (const s of [...holdoutPositives, ...holdoutNegatives]) held.add(s.note, labelSet(s), found(s.text, OPERATING_POINT), found(s.text, Number.MIN_VALUE));
    console.log(`${held.table(`injection held-out: ${holdoutPositives.length} positive, ${holdoutNegatives.length} negative`)}\n${held.misses.join('\n')}`);
    for (const k of KINDS) {
      const row = held.get(`injection.${k}`);
      expect(Tally.precision(row), `held-out precision ${k}`).toBeGreaterThanOrEqual(HOLDOUT_MIN_PRECISION);
      expect(Tally.recall(row), `held-out recall ${k}`).toBeGreaterThanOrEqual(HOLDOUT_MIN_RECALL);
    }
  });

  it('reports quoted attacks in security writing, but only below the operating point', () => {
    for (const s of injectionMentions) {
      for (const kind of s.mentions ?? []) {
        const confidences = injectionDetectors.flatMap((d) => d.scan(s.text)).filter((m) => m.type === `injection.${kind}`).map((m) => m.confidence);
        expect(confidences.length, `${s.note}: ${kind} reported`).toBeGreaterThan(0);
        expect(Math.max(...confidences), `${s.note}: ${kind} low`).toBeLessThan(OPERATING_POINT);
      }
    }
  });
});
