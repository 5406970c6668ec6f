/** The prompt-injection detectors (category `injection`), each a `Detector` over one string. */
import type { Detector } from '../types.js';
import { delimiterDetector } from './delimiter.js';
import { encodedDetector } from './encoded.js';
import { exfiltrationDetector } from './exfiltration.js';
import { hiddenDetector } from './hidden.js';
import { extractionDetector, overrideDetector, roleDetector } from './phrasing.js';

export { delimiterDetector, encodedDetector, exfiltrationDetector, extractionDetector, hiddenDetector, overrideDetector, roleDetector };

/** All injection detectors: `injection.override|role|extraction|delimiter|hidden|encoded|exfiltration`. */
export const injectionDetectors: readonly Detector[] = [
  overrideDetector,
  roleDetector,
  extractionDetector,
  delimiterDetector,
  hiddenDetector,
  encodedDetector,
  exfiltrationDetector,
];
