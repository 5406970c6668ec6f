/** The labeled corpus: generated positives for every detector type plus hard negatives, from one seed. */
import type { Sample } from './build.js';
import { Rng } from './generate.js';
import { harder } from './harder.js';
import { heldOut } from './held-out.js';
import { negatives } from './negatives.js';
import { piiPositives } from './positives-pii.js';
import { secretPositives } from './positives-secrets.js';

export type { Label, Sample } from './build.js';

/** The development corpus: the detectors were tuned against it. */
export function buildCorpus(seed: number): Sample[] {
  const rng = new Rng(seed);
  return [...piiPositives(rng, 60), ...secretPositives(rng, 30), ...negatives(rng, 40), ...harder(rng, 4)];
}

/** The held-out corpus: written afterwards, not tuned against. */
export function buildHeldOut(seed: number): Sample[] {
  return heldOut(new Rng(seed), 4);
}
