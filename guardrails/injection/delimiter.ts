/**
 * Chat-template delimiters and fake conversation turns in content that should be data.
 *
 * One left-to-right pass; every check reads a bounded window (≤ 48 characters for a special token, ≤ 200 for the
 * rest of a `System:` line), so the scan is linear. Confidence: 0.95 for `<|…|>` special tokens, `[INST]`,
 * `<<SYS>>` and the like (they never occur in ordinary text), lower for line-start turn markers
 * (`System:`, `Human:`, `Assistant:`, `### Instruction:`) which ordinary documents sometimes have.
 */
import type { Detector, Match } from '../types.js';

const TYPE = 'injection.delimiter';

/** Literal special tokens (compared case-insensitively). `<|name|>` tokens are recognised generically. */
const LITERALS: readonly (readonly [string, number])[] = [
  ['[inst]', 0.95], ['[/inst]', 0.95], ['<<sys>>', 0.95], ['<</sys>>', 0.95], ['[system_prompt]', 0.95],
  ['[/system_prompt]', 0.95], ['[available_tools]', 0.9], ['[/available_tools]', 0.9], ['[tool_calls]', 0.9],
  ['[tool_results]', 0.9], ['[/tool_results]', 0.9], ['<start_of_turn>', 0.95], ['<end_of_turn>', 0.95],
];

const LINE_WORDS = 200;
const SYSTEM_CUES = new Set([
  'you', 'your', 'assistant', 'ai', 'model', 'must', 'ignore', 'always', 'never', 'instructions', 'respond',
  'answer', 'override', 'mode', 'new', 'now', 'reply', 'forget', 'disregard', 'reveal', 'do', 'dont',
]);

function isNameChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d || c === 0x2e;
}

/** `<|name|>` with a 2..40 character name of `[A-Za-z0-9_.-]`; returns its end or -1. */
function specialToken(text: string, i: number): number {
  let j = i + 2;
  const limit = Math.min(text.length, i + 2 + 40);
  while (j < limit && isNameChar(text.charCodeAt(j))) j++;
  if (j - (i + 2) < 2) return -1;
  return text.charCodeAt(j) === 0x7c && text.charCodeAt(j + 1) === 0x3e ? j + 2 : -1;
}

function startsWithCI(text: string, i: number, lit: string): boolean {
  if (i + lit.length > text.length) return false;
  for (let k = 0; k < lit.length; k++) {
    let c = text.charCodeAt(i + k);
    if (c >= 0x41 && c <= 0x5a) c += 32;
    if (c !== lit.charCodeAt(k)) return false;
  }
  return true;
}

interface LineMarker {
  word: string;
  start: number;
  end: number;
  heading: boolean;
  cue: boolean;
}

/** Reads `[#… ]Word:` at a line start; `i` is the first character of the line. */
function lineMarker(text: string, i: number): LineMarker | undefined {
  let j = i;
  while (j < text.length && j - i < 16 && (text[j] === ' ' || text[j] === '\t')) j++;
  const start = j;
  let hashes = 0;
  while (j < text.length && text[j] === '#' && hashes < 6) { j++; hashes++; }
  if (hashes > 0) while (j < text.length && text[j] === ' ') j++;
  const wordStart = j;
  while (j < text.length && j - wordStart < 12) {
    const c = text.charCodeAt(j) | 0x20;
    if (c < 0x61 || c > 0x7a) break;
    j++;
  }
  const word = text.slice(wordStart, j).toLowerCase();
  if (word.length === 0) return undefined;
  while (j < text.length && text[j] === ' ') j++;
  if (text[j] !== ':') return undefined;
  const end = j + 1;
  // Words on the rest of the line (bounded), for the `System:` cue check.
  let cue = false;
  let w = '';
  for (let k = end; k < text.length && k < end + LINE_WORDS; k++) {
    const ch = text[k] ?? '';
    if (ch === '\n' || ch === '\r') break;
    const c = ch.charCodeAt(0) | 0x20;
    if ((c >= 0x61 && c <= 0x7a) || ch === "'") { if (ch !== "'") w += String.fromCharCode(c); continue; }
    if (SYSTEM_CUES.has(w)) cue = true;
    w = '';
  }
  if (SYSTEM_CUES.has(w)) cue = true;
  return { word, start, end, heading: hashes > 0, cue };
}

function scan(text: string): Match[] {
  const out: Match[] = [];
  const markers: LineMarker[] = [];
  let openS = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (i === 0 || c === 0x0a || c === 0x0d) {
      const m = lineMarker(text, c === 0x0a || c === 0x0d ? i + 1 : i);
      if (m !== undefined) markers.push(m);
    }
    if (c !== 0x3c && c !== 0x5b) continue; // '<' or '['
    if (c === 0x3c && text.charCodeAt(i + 1) === 0x7c) {
      const end = specialToken(text, i);
      if (end > 0) {
        out.push({ type: TYPE, start: i, end, confidence: 0.95 });
        i = end - 1;
      }
      continue;
    }
    if (c === 0x3c && startsWithCI(text, i, '<s>')) { openS++; continue; }
    if (c === 0x3c && startsWithCI(text, i, '</s>')) {
      // `</s>` closing an HTML `<s>` (strikethrough) is markup; a stray one is the Llama end-of-sequence token.
      if (openS > 0) openS--;
      else out.push({ type: TYPE, start: i, end: i + 4, confidence: 0.7 });
      continue;
    }
    for (const [lit, conf] of LITERALS) {
      if (startsWithCI(text, i, lit)) {
        out.push({ type: TYPE, start: i, end: i + lit.length, confidence: conf });
        i += lit.length - 1;
        break;
      }
    }
  }
  if (markers.length > 0) out.push(...turnMatches(markers));
  return out.sort((a, b) => a.start - b.start);
}

function turnMatches(markers: readonly LineMarker[]): Match[] {
  const has = (w: string): boolean => markers.some((m) => m.word === w);
  const human = has('human');
  const assistant = has('assistant');
  const user = has('user');
  const instruction = markers.some((m) => m.heading && (m.word === 'instruction' || m.word === 'instructions'));
  const out: Match[] = [];
  for (const m of markers) {
    let conf = 0;
    if (m.word === 'system') conf = m.heading ? 0.6 : m.cue || human || assistant ? 0.6 : 0;
    else if (m.word === 'human' || m.word === 'assistant') conf = (human || user) && assistant ? 0.75 : 0.55;
    else if (m.heading && (m.word === 'instruction' || m.word === 'instructions')) conf = 0.6;
    else if (m.heading && m.word === 'response' && instruction) conf = 0.55;
    if (conf > 0) out.push({ type: TYPE, start: m.start, end: m.end, confidence: conf });
  }
  return out;
}

export const delimiterDetector: Detector = { id: TYPE, category: 'injection', scan };
