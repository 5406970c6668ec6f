/** The guardrails library: pure detection and redaction over JSON values, and tool-definition pinning. No I/O, no Node built-ins. */
export type * from './types.js';

// Walking and redacting JSON.
export { inspect, utf8Length } from './inspect.js';
export { redact, redactString, marker } from './redact.js';
export { nameSelector, parsePath, type Segment } from './json-path.js';

// Personal data and secrets (one detector per type; each detector's id is its type).
export { emailDetector, phoneDetector } from './pii-contact.js';
export { cardDetector, ibanDetector, ssnDetector } from './pii-numbers.js';
export { ipDetector } from './pii-network.js';
export {
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
export { awsSecretKeyDetector, genericSecretDetector } from './secrets-context.js';
export { bearerDetector, urlCredentialDetector } from './secrets-url.js';

// Prompt injection (category 'injection').
export {
  injectionDetectors,
  overrideDetector,
  roleDetector,
  extractionDetector,
  delimiterDetector,
  hiddenDetector,
  encodedDetector,
  exfiltrationDetector,
} from './injection/index.js';

// Tenants' own rules, and every built-in detector by type.
export { customDetector, type CustomRule } from './custom.js';
export { builtInDetectors, builtInTypes, detectorsFor } from './registry.js';

// Tool definitions: poisoning (category 'poisoning') and pinning.
export { poisoningDetectors } from './poisoning/detectors.js';
export { inspectToolDefinition } from './poisoning/inspect.js';
export { canonicalJson, definitionHash } from './canonical-json.js';
