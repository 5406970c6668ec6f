/**
 * The built-in detectors, keyed by the one match type each reports (its id), and a selector-based picker so the
 * gateway can configure them per tenant: `detectorsFor(['pii.email', 'secret.*'])`.
 */
import { emailDetector, phoneDetector } from './pii-contact.js';
import { ipDetector } from './pii-network.js';
import { cardDetector, ibanDetector, ssnDetector } from './pii-numbers.js';
import { awsSecretKeyDetector, genericSecretDetector } from './secrets-context.js';
import {
  awsAccessKeyDetector,
  githubTokenDetector,
  googleApiKeyDetector,
  jwtDetector,
  privateKeyDetector,
  slackTokenDetector,
  slackWebhookDetector,
  stripeDetector,
  stripeTestDetector,
} from './secrets-tokens.js';
import { bearerDetector, urlCredentialDetector } from './secrets-url.js';
import { injectionDetectors } from './injection/index.js';
import type { Detector } from './types.js';

const all: readonly Detector[] = [
  emailDetector,
  phoneDetector,
  cardDetector,
  ibanDetector,
  ssnDetector,
  ipDetector,
  awsAccessKeyDetector,
  awsSecretKeyDetector,
  githubTokenDetector,
  slackTokenDetector,
  slackWebhookDetector,
  stripeDetector,
  stripeTestDetector,
  googleApiKeyDetector,
  privateKeyDetector,
  jwtDetector,
  bearerDetector,
  urlCredentialDetector,
  genericSecretDetector,
  ...injectionDetectors,
];

/** Every built-in detector by type: `builtInDetectors['pii.email']`. Each detector's id is the type it reports. */
export const builtInDetectors: Readonly<Record<string, Detector>> = Object.freeze(Object.fromEntries(all.map((d) => [d.id, d])));

/** The built-in types, in a stable order. */
export const builtInTypes: readonly string[] = Object.freeze(all.map((d) => d.id));

/**
 * The built-in detectors a list of selectors picks, each once, in registry order. A selector is a type
 * (`pii.email`), a category wildcard (`pii.*`, `secret.*`) or `*` for all. Throws on a selector that picks nothing,
 * so a typo fails at config load.
 */
export function detectorsFor(selectors: readonly string[]): Detector[] {
  const picked = new Set<Detector>();
  for (const s of selectors) {
    const matches = all.filter((d) => s === '*' || d.id === s || (s.endsWith('.*') && d.id.startsWith(s.slice(0, -1))));
    if (matches.length === 0) throw new Error(`guardrails: unknown detector selector ${JSON.stringify(s)} (known: ${builtInTypes.join(', ')}, pii.*, secret.*, injection.*, *)`);
    for (const d of matches) picked.add(d);
  }
  return all.filter((d) => picked.has(d));
}
