/**
 * Phrase-based prompt-injection detectors: instruction override, role hijack, system-prompt extraction.
 *
 * Confidence is lower than for the structural detectors (delimiters, tag characters) because phrasing is ambiguous.
 * A match that is quoted, or that has words such as "injection", "attack", "example" or "payload" close before it,
 * is taken as a *mention* (a security article, a test fixture, a bug report) and its confidence is scaled down
 * (×0.4 for such words, ×0.6 for quotes alone), so a gateway that acts at ≥ 0.5 flags mentions at low confidence only.
 */
import type { Detector, Match } from '../types.js';
import { tokenize, type Token } from './normalize.js';
import { phrase, PhraseSet, type PhraseHit } from './phrases.js';

const IGNORE = 'ignore|disregard|forget|bypass|override|overlook|neglect|discard|abandon|circumvent|ignoring|disregarding|forgetting';
const FILLER = '[all|any|every|of|the|your|my|our|previously|given|earlier|that|you|were|have|been|received|these|those]*3';
const BEFORE = 'previous|prior|above|earlier|preceding|foregoing|former|original|initial|old';
const RULES = 'instructions|instruction|rules|directions|prompts|prompt|guidelines|guidance|directives|commands|orders|constraints|restrictions|policies|guardrails|programming|training';
const GUARD_ADJ = 'system|safety|ethical|moderation|developer';
const GUARD_NOUNS = 'prompt|message|instructions|guidelines|guardrails|rules|policy|policies|filters|restrictions|programming|protocols';

export const OVERRIDE_PHRASES = new PhraseSet([
  phrase(`${IGNORE} ${FILLER} ${BEFORE} [${GUARD_ADJ}|and|or|ai|assistant]*2 ${RULES}`, 0.85),
  phrase(`${IGNORE} [the|your]? all|any|every [of]? [the|your|my]? [${GUARD_ADJ}]? instructions|instruction|directives|prompts|prompt|guidelines|guardrails|programming`, 0.75),
  phrase(`${IGNORE} [all|any|the|your|my|of]*3 ${GUARD_ADJ} ${GUARD_NOUNS}`, 0.75),
  phrase(`${IGNORE} [all|any|the|every|of]*2 everything|anything|all [that|you|i|was|is|were|have|been|ive|we]*3 above|before|prior|previously|said|written|stated|told|given|preceding|earlier`, 0.8),
  phrase(`${IGNORE} [the|all]? above|previous|prior|preceding|foregoing and|then|instead|but`, 0.75),
  phrase(`${IGNORE} [all|of]*2 your programming|training|guidelines|rules|instructions|directives|restrictions|constraints|filters|policies`, 0.8),
  phrase('new|updated|revised|real|actual|true|secret|hidden|overriding|override [system|admin|developer|important]? instructions|instruction|prompt|directive|directives|orders:', 0.65),
  phrase('system|admin|developer|emergency override:', 0.6),
  phrase('your new|real|actual|true|only task|goal|objective|instructions|mission|purpose|job|directive is|are|now', 0.6),
  phrase('your new|real|actual|true task|goal|objective|instructions|mission|directive:', 0.65),
  phrase('you must|will|shall|should now [only|always|instead|strictly]? obey|comply|ignore|disregard|forget|disobey', 0.7),
  phrase('you must|will|shall|should now [only|always|instead|strictly]? follow|obey [my|these|the|new|following|only]*2 instructions|rules|orders|commands|directions|directives', 0.7),
  phrase(`do not follow|obey|listen|adhere [to|the|your|any|all|of]*3 ${BEFORE}|system|developer ${RULES}`, 0.8),
  phrase(`dont|never follow|obey|listen|adhere [to|the|your|any|all|of]*3 ${BEFORE}|system|developer ${RULES}`, 0.8),
  phrase('stop|cease following|obeying|listening [to]? [your|the|all|any|previous|prior|original|system|these]*2 instructions|rules|guidelines|programming|directives|prompt', 0.75),
  phrase(`the|all|any|your ${BEFORE}|system [system]? ${RULES} are|were|is|was [now|hereby|all]? void|null|fake|overridden|rescinded|cancelled|canceled|revoked|lies|nullified`, 0.75),
]);

const AI = 'ai|assistant|chatbot|llm|gpt|chatgpt|claude|gemini|model';
const ROGUE = 'dan|jailbroken|jailbreak|unrestricted|unfiltered|uncensored|unbound|unchained|liberated|unlimited|evil|rogue|amoral|unethical|unaligned';

export const ROLE_PHRASES = new PhraseSet([
  phrase(`youre|you [are]? now [a|an|the|my|in|called|named|known|as]*2 ${ROGUE}`, 0.8),
  phrase(`youre|you [are]? now [a|an]? different|new|another|free|${ROGUE} [${ROGUE}|language|ai]? ${AI}|persona|entity`, 0.7),
  phrase(`youre|you [are]? now in [${ROGUE}|god|sudo|jailbreak]? mode`, 0.75),
  phrase(`from now on [you|youre|youll|will|must|shall|should|are|going|to]*4 [always|only|never|strictly|be]*2 act|respond|answer|reply|behave|pretend|ignore|obey|comply|roleplay|role|dan|${ROGUE}`, 0.7),
  phrase(`pretend [that]? to|you|youre [are|be|were]? [a|an|the|my|now|no|longer]*2 [different|new|free|${ROGUE}]*2 ${AI}|${ROGUE}|system|administrator|root|superuser`, 0.6),
  phrase(`act|behave|respond|answer as [a|an|the|my]? system|${ROGUE}|root|superuser|sudo`, 0.55),
  phrase(`act|behave|respond|answer as [a|an]? unrestricted|unfiltered|uncensored|jailbroken|evil|different [${ROGUE}]? ${AI}`, 0.75),
  phrase('act|behave|respond|answer|operate as|like if|though you [have|had|are|were|do]? no|not|nothing|without [longer|any|bound|restricted|limited|filtered|censored|subject|to|by]*2 restrictions|rules|filters|limits|limitations|guidelines|policies|constraints|bound|restricted|filtered|censored|boundaries|ethics|morals|programming', 0.8),
  phrase(`enter|enable|activate|switch|turn|unlock [to|on|into]? [${ROGUE}|god|jailbreak]*2 mode`, 0.75),
  phrase('youre|you [are]? no longer [a|an|bound|by|to|subject|any]*2 bound|restricted|limited|constrained|ai|assistant|language|chatgpt|claude|gemini|obliged|obligated|censored|filtered', 0.75),
  phrase('do anything now', 0.8),
  phrase('immerse yourself into|in the role', 0.7),
  phrase(`${AI}|bot|persona|character with no|without [any|morals|ethics|restrictions|rules|or|and]*3 ethics|morals|restrictions|filters|guidelines|limits|rules|boundaries|censorship|limitations`, 0.65),
  phrase('your new|true|real persona|identity|personality is|are', 0.65),
  phrase('i am|im your [real|true|actual]? developer|developers|creator|creators|operator|programmer|maker', 0.55),
  phrase(`roleplay|role play as [a|an|the]? system|${ROGUE}|${AI}`, 0.6),
  phrase(`dan|god|jailbreak mode enabled|activated|on|unlocked`, 0.65),
]);

const REVEAL_ANY =
  'reveal|print|repeat|show|display|output|tell|give|share|write|dump|leak|expose|disclose|recite|echo|spell|paste|copy|list|return|provide|type|summarize|summarise|translate|state';
const REVEAL_STRICT = 'reveal|print|repeat|show|display|output|tell|dump|leak|expose|disclose|recite|echo|spell';
const DUMP = 'repeat|print|output|echo|recite|reveal|dump|display|show';
const FILL = '[me|us|out|back|all|of|the|exact|full|entire|complete|whole|verbatim|word|for|literally|everything|in]*4';
const ADJ = '[exact|full|entire|complete|whole|original|initial|hidden|secret|real|system|internal|underlying|pre|meta|base|developer|starting|first]*3';

export const EXTRACTION_PHRASES = new PhraseSet([
  phrase(`${REVEAL_ANY} ${FILL} your ${ADJ} prompt|prompts|preprompt`, 0.85),
  phrase(`${REVEAL_STRICT} ${FILL} your ${ADJ} instructions|instruction|directives|rules|guidelines`, 0.8),
  phrase(`${REVEAL_ANY} ${FILL} [the|your|its]? system prompt|prompts|message|instructions`, 0.75),
  phrase(`${REVEAL_ANY} ${FILL} [the|your|its]? hidden|secret prompt|prompts|instructions`, 0.75),
  phrase(`${REVEAL_ANY} ${FILL} [the|your|its]? initial|original|pre|meta|base|developer|starting prompt|preprompt`, 0.7),
  phrase('what were|are|was|is your system|hidden|secret|initial|original|exact|first|starting [system|initial|original]? instructions|prompt|rules|guidelines|directives', 0.8),
  phrase('what were your instructions|prompt|directives', 0.6),
  phrase('what were|have|did you [been]? told|instructed|programmed [to|do|say|in|by|the|your|system|developer]*2 before|initially|previously|originally|earlier|prior', 0.7),
  phrase('what were|have|did you [been]? told|instructed|programmed *3 beginning|start|top of [the|this|our]? conversation|chat|session|prompt', 0.75),
  phrase('what instructions|prompt|directives|rules were|did|have|are you [been]? given|receive|received|get|told|following|running|operating', 0.45),
  phrase('what instructions|prompt|directives|rules were|did|have you [been]? given|receive|received|get|told by|from [the|your]? operator|operators|developer|developers|creator|creators|system|company|openai|anthropic|admin|administrator|owner', 0.7),
  phrase(`${DUMP} [me|us|out|back|all|of|verbatim]*2 everything above|before`, 0.65),
  phrase(`${DUMP} [me|us|out|back|all|of|verbatim]*2 the|all words|text|content|lines|tokens|instructions|messages above|before`, 0.65),
  phrase('repeat the words above', 0.8),
  phrase(`${DUMP}|copy|paste *4 from|since the beginning|start of the|this|our conversation|chat|context|prompt|session`, 0.6),
]);

const META = new Set([
  'injection', 'injections', 'injected', 'jailbreak', 'jailbreaks', 'jailbreaking', 'attack', 'attacks', 'attacker',
  'attackers', 'adversarial', 'malicious', 'payload', 'payloads', 'example', 'examples', 'detect',
  'detects', 'detection', 'detector', 'classifier', 'mitigation', 'mitigate', 'owasp', 'exploit', 'exploits',
  'pattern', 'patterns', 'fixture', 'testcase', 'sample', 'samples',
]);
const META_BEFORE = 12;
const META_AFTER = 4;
const QUOTES = new Set(['"', '\u201c', '\u201d', "'", '\u2018', '\u2019', '`', '\u00ab', '\u201e', '\u300c']);

function isLetterAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i) | 0x20;
  return c >= 0x61 && c <= 0x7a;
}

/** The word is a label of a host name or e-mail domain (`search.example/`, `@example.com`). */
function inHostName(text: string, t: Token): boolean {
  const before = text[t.start - 1];
  return before === '.' || before === '@' || (text[t.end] === '.' && isLetterAt(text, t.end + 1));
}

/** The factor (≤ 1) a hit's confidence is scaled by when it looks like a mention rather than an instruction. */
export function mentionFactor(text: string, tokens: readonly Token[], hit: PhraseHit): number {
  const from = Math.max(0, hit.first - META_BEFORE);
  const to = Math.min(tokens.length - 1, hit.last + META_AFTER);
  for (let k = from; k <= to; k++) {
    if (k >= hit.first && k <= hit.last) continue;
    const t = tokens[k];
    // A word inside a host name (`search.example.com`) is not a remark about the text.
    if (t !== undefined && META.has(t.w) && !inHostName(text, t)) return 0.4;
  }
  const start = tokens[hit.first]?.start ?? 0;
  for (let j = start - 1, seen = 0; j >= 0 && seen < 3; j--, seen++) {
    const ch = text[j] ?? '';
    if (QUOTES.has(ch)) return 0.6;
    if (ch !== ' ' && ch !== '\t' && ch !== '*' && ch !== '_') break;
  }
  return 1;
}

/** Runs one phrase set over already-tokenized text and returns matches of `type`. */
export function phraseMatches(text: string, tokens: readonly Token[], set: PhraseSet, type: string): Match[] {
  const out: Match[] = [];
  for (const hit of set.find(tokens)) {
    const a = tokens[hit.first];
    const b = tokens[hit.last];
    if (a === undefined || b === undefined) continue;
    const confidence = Math.round(hit.confidence * mentionFactor(text, tokens, hit) * 100) / 100;
    out.push({ type, start: a.start, end: b.end, confidence });
  }
  return out;
}

function phraseDetector(kind: string, set: PhraseSet): Detector {
  const type = `injection.${kind}`;
  return {
    id: type,
    category: 'injection',
    scan: (text: string): Match[] => phraseMatches(text, tokenize(text), set, type),
  };
}

export const overrideDetector: Detector = phraseDetector('override', OVERRIDE_PHRASES);
export const roleDetector: Detector = phraseDetector('role', ROLE_PHRASES);
export const extractionDetector: Detector = phraseDetector('extraction', EXTRACTION_PHRASES);

/** All three phrase sets over one tokenization (used by the encoded-payload detector on decoded text). */
export function allPhraseMatches(text: string): Match[] {
  const tokens = tokenize(text);
  return [
    ...phraseMatches(text, tokens, OVERRIDE_PHRASES, 'injection.override'),
    ...phraseMatches(text, tokens, ROLE_PHRASES, 'injection.role'),
    ...phraseMatches(text, tokens, EXTRACTION_PHRASES, 'injection.extraction'),
  ];
}
