/**
 * Every RegExp the injection, poisoning and canonical-JSON modules use, in one place so a test can check each one
 * (anchored, bounded, and `recheck`-safe) and a source scan can check that no other RegExp exists in those modules.
 *
 * All three are applied to a single code point (at most 2 UTF-16 units), so they are bounded by construction:
 * the detectors themselves are hand-written scanners.
 */

/** A letter or a digit in any script (one code point). */
export const LETTER_OR_DIGIT = /^[\p{L}\p{N}]$/u;

/** A combining mark (one code point): ignored inside words, so `i\u0308gnore` reads as `ignore`. */
export const COMBINING_MARK = /^\p{M}$/u;

/** An emoji-like pictograph (one code point): a zero-width joiner between two of these is an emoji sequence. */
export const PICTOGRAPH = /^\p{Extended_Pictographic}$/u;

/** The list the ReDoS test walks. */
export const GUARDRAIL_PATTERNS: readonly RegExp[] = [LETTER_OR_DIGIT, COMBINING_MARK, PICTOGRAPH];
