import { expect, test } from 'vitest';
import { builtInDetectors, builtInTypes, inspect } from '../../guardrails/index.js';
import { buildCorpus, buildHeldOut, type Sample } from './corpus/index.js';
import { score, type Score } from './corpus/score.js';

// This corpus labels personal data and secrets; injection detectors have their own (injection-corpus.test.ts). Its
// negatives hold one string the delimiter detector rightly reports: a tokenizer config's "<|endoftext|>".
const types = builtInTypes.filter((type) => type.startsWith('pii.') || type.startsWith('secret.'));
const detectors = types.map((type) => builtInDetectors[type]!);
const limits = { maxBytes: 4_000_000, maxDepth: 64 };
const run = (value: unknown) => inspect(value, detectors, limits).findings;

function table(title: string, samples: readonly Sample[], scores: readonly Score[]): string {
  const rows = scores.map(
    (s) => `${s.type.padEnd(24)} ${String(s.labels).padStart(6)} ${String(s.found).padStart(5)} ${String(s.predictions).padStart(5)} ${String(s.falsePositives).padStart(4)}  ${s.precision.toFixed(3)}   ${s.recall.toFixed(3)}`,
  );
  const negatives = samples.filter((s) => s.labels.length === 0).length;
  return `${title}: ${samples.length} samples, ${negatives} hard negatives\n${'type'.padEnd(24)} labels found preds   FP  precision recall\n${rows.join('\n')}`;
}

/** Stated thresholds, per detector type, over development + held-out corpus together. */
const MIN_PRECISION = 0.95;
const MIN_RECALL: Record<string, number> = { 'secret.generic': 0.85 };
const DEFAULT_MIN_RECALL = 0.9;

test('precision and recall per detector type over the labeled corpus', () => {
  // Three seeds: the generated values differ, so chance hits (a random id that passes Luhn) show up in the numbers.
  const seed = Number(process.env['CORPUS_SEED'] ?? 20240501);
  const seeds = [seed, seed + 1000, seed + 2000];
  const dev = seeds.flatMap((s) => buildCorpus(s));
  const held = seeds.flatMap((s) => buildHeldOut(s + 1));
  const devScore = score(types, dev, run);
  const heldScore = score(types, held, run);
  const all = score(types, [...dev, ...held], run);
  console.log(`${table('development corpus', dev, devScore.scores)}\n\n${table('held-out corpus', held, heldScore.scores)}\n\n${table('all', [...dev, ...held], all.scores)}`);
  if (process.env['CORPUS_DEBUG']) for (const m of [...devScore.misses, ...heldScore.misses]) console.log(m.kind, m.type, JSON.stringify(m.text).slice(0, 200));
  for (const s of all.scores) {
    expect.soft(s.labels, `${s.type}: corpus positives`).toBeGreaterThanOrEqual(30);
    expect.soft(s.precision, `${s.type}: precision`).toBeGreaterThanOrEqual(MIN_PRECISION);
    expect.soft(s.recall, `${s.type}: recall`).toBeGreaterThanOrEqual(MIN_RECALL[s.type] ?? DEFAULT_MIN_RECALL);
  }
});
