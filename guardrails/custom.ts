/**
 * Tenant rules: literal keywords (Aho–Corasick, one automaton per rule, O(text) per rule) and patterns compiled with
 * re2js, a linear-time (automaton-based, no backtracking) engine. Match types are `custom.<rule id>`.
 */
import { RE2JS } from 're2js';
import type { Detector, Match } from './types.js';
import { isAlnum } from './scan-chars.js';

export interface CustomRule {
  id: string;
  /** Matched literally anywhere in a string; case-insensitive unless `caseSensitive`. */
  keywords?: string[];
  /** RE2 syntax (no backreferences or lookaround); case-insensitive unless `caseSensitive`. */
  patterns?: string[];
  caseSensitive?: boolean;
}

/** Longest pattern source accepted, in characters. */
export const MAX_PATTERN_LENGTH = 1000;
/** Longest keyword accepted, in characters. */
export const MAX_KEYWORD_LENGTH = 256;
/**
 * Matches reported per pattern per string. Finding all matches of an RE2 pattern can cost O(n) per match (each search
 * may read ahead to the end), so after this many the rest of the string, if the pattern still matches there, is
 * reported as one match (fail closed): the cost stays O(MAX_PATTERN_MATCHES × n).
 */
export const MAX_PATTERN_MATCHES = 16;

const lowerCache = new Map<number, number>();

/** Lower-cases one UTF-16 code unit, keeping offsets: characters whose lower case is not one code unit stay as they are. */
export function foldCodeUnit(c: number): number {
  if (c < 128) return c >= 65 && c <= 90 ? c + 32 : c;
  let f = lowerCache.get(c);
  if (f === undefined) {
    const s = String.fromCharCode(c).toLowerCase();
    f = s.length === 1 ? s.charCodeAt(0) : c;
    lowerCache.set(c, f);
  }
  return f;
}

/** Aho–Corasick automaton reporting, at each end position, the longest keyword ending there. */
export class KeywordAutomaton {
  private readonly next: Map<number, number>[] = [new Map()];
  private readonly fail: number[] = [0];
  /** Length of the longest keyword that ends at this state (itself or along its failure links); 0 if none. */
  private readonly out: number[] = [0];

  constructor(
    keywords: readonly string[],
    private readonly fold: boolean,
  ) {
    const depth: number[] = [0];
    const terminal: boolean[] = [false];
    for (const keyword of keywords) {
      let s = 0;
      for (let i = 0; i < keyword.length; i++) {
        const c = this.code(keyword.charCodeAt(i));
        let t = this.next[s]?.get(c);
        if (t === undefined) {
          t = this.next.length;
          this.next.push(new Map());
          this.fail.push(0);
          this.out.push(0);
          depth.push((depth[s] ?? 0) + 1);
          terminal.push(false);
          this.next[s]?.set(c, t);
        }
        s = t;
      }
      terminal[s] = true;
    }
    // Breadth-first: a state's failure link is shallower, so its `out` is final before the state's own.
    const queue: number[] = [];
    for (const t of this.next[0]?.values() ?? []) queue.push(t);
    for (let q = 0; q < queue.length; q++) {
      const u = queue[q] ?? 0;
      this.out[u] = terminal[u] ? (depth[u] ?? 0) : (this.out[this.fail[u] ?? 0] ?? 0);
      for (const [c, v] of this.next[u] ?? []) {
        let f = this.fail[u] ?? 0;
        while (f !== 0 && !this.next[f]?.has(c)) f = this.fail[f] ?? 0;
        const target = this.next[f]?.get(c);
        this.fail[v] = target !== undefined && target !== v ? target : 0;
        queue.push(v);
      }
    }
  }

  private code(c: number): number {
    return this.fold ? foldCodeUnit(c) : c;
  }

  /** Calls `emit(start, end)` for the longest keyword ending at each position. O(text length), amortized. */
  scan(text: string, emit: (start: number, end: number) => void): void {
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      const c = this.code(text.charCodeAt(i));
      while (s !== 0 && !this.next[s]?.has(c)) s = this.fail[s] ?? 0;
      s = this.next[s]?.get(c) ?? 0;
      const len = this.out[s] ?? 0;
      if (len > 0) emit(i + 1 - len, i + 1);
    }
  }
}

interface CompiledRule {
  type: string;
  keywords: KeywordAutomaton | null;
  patterns: RE2JS[];
}

function validId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= 64 && [...id].every((ch) => isAlnum(ch.charCodeAt(0)) || '_-.'.includes(ch));
}

function compileRule(rule: CustomRule, seen: Set<string>): CompiledRule {
  if (!validId(rule.id)) throw new Error(`guardrails: custom rule id ${JSON.stringify(rule.id)} must be 1–64 characters of [A-Za-z0-9_.-]`);
  const where = `guardrails: custom rule "${rule.id}"`;
  if (seen.has(rule.id)) throw new Error(`${where} is defined twice`);
  seen.add(rule.id);
  const keywords = rule.keywords ?? [];
  const patterns = rule.patterns ?? [];
  if (keywords.length === 0 && patterns.length === 0) throw new Error(`${where} has neither keywords nor patterns`);
  for (const k of keywords) {
    if (typeof k !== 'string' || k.length === 0) throw new Error(`${where}: keywords must be non-empty strings`);
    if (k.length > MAX_KEYWORD_LENGTH) throw new Error(`${where}: keyword longer than ${MAX_KEYWORD_LENGTH} characters`);
  }
  const flags = rule.caseSensitive === true ? 0 : RE2JS.CASE_INSENSITIVE;
  const compiled = patterns.map((p) => {
    if (typeof p !== 'string' || p.length === 0) throw new Error(`${where}: patterns must be non-empty strings`);
    if (p.length > MAX_PATTERN_LENGTH) throw new Error(`${where}: pattern longer than ${MAX_PATTERN_LENGTH} characters`);
    let re: RE2JS;
    try {
      re = RE2JS.compile(p, flags);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      throw new Error(`${where}: invalid or unsupported pattern ${JSON.stringify(p)} (RE2 syntax, no backreferences or lookaround): ${reason}`);
    }
    if (EMPTY_PROBES.some((probe) => emptyMatch(re, probe))) throw new Error(`${where}: pattern ${JSON.stringify(p)} can match the empty string`);
    return re;
  });
  const automaton = keywords.length > 0 ? new KeywordAutomaton(keywords, rule.caseSensitive !== true) : null;
  return { type: `custom.${rule.id}`, keywords: automaton, patterns: compiled };
}

/** Strings on which a pattern that can match '' (`a*`, `^`, `\b`, `(x|)`) shows it. */
const EMPTY_PROBES = ['', 'a', 'a b', 'A1-b2.', ' \n '];

function emptyMatch(re: RE2JS, probe: string): boolean {
  const m = re.matcher(probe);
  for (let k = 0; k <= probe.length + 1 && m.find(); k++) if (m.end() === m.start()) return true;
  return false;
}

function scanPattern(re: RE2JS, text: string, type: string, out: Match[]): void {
  if (!re.test(text)) return; // one DFA pass decides most strings
  const m = re.matcher(text);
  let count = 0;
  let last = 0;
  // Every search counts against the budget, empty matches included, so the loop makes ≤ 2 × MAX_PATTERN_MATCHES searches.
  for (let searches = 0; count < MAX_PATTERN_MATCHES && searches < 2 * MAX_PATTERN_MATCHES && m.find(); searches++) {
    const start = m.start();
    const end = m.end();
    if (end <= start) continue;
    out.push({ type, start, end, confidence: 1 });
    count++;
    last = end;
  }
  if (count === MAX_PATTERN_MATCHES && last < text.length && re.test(text.slice(last))) {
    out.push({ type, start: last, end: text.length, confidence: 1 });
  }
}

/**
 * One detector (category 'custom') for a tenant's rules. Throws a clear Error naming the rule for an invalid id, an
 * empty rule, or a pattern re2js cannot compile (backreferences, lookaround, bad syntax) or that matches ''.
 * Cost per string: O(n) per keyword rule plus O(MAX_PATTERN_MATCHES × n) per pattern.
 */
export function customDetector(rules: readonly CustomRule[], id = 'custom'): Detector {
  const seen = new Set<string>();
  const compiled = rules.map((rule) => compileRule(rule, seen));
  return {
    id,
    category: 'custom',
    scan(text: string): Match[] {
      const out: Match[] = [];
      for (const rule of compiled) {
        rule.keywords?.scan(text, (start, end) => out.push({ type: rule.type, start, end, confidence: 1 }));
        for (const re of rule.patterns) scanPattern(re, text, rule.type, out);
      }
      return out;
    },
  };
}
