import { describe, expect, test } from 'vitest';
import { customDetector, inspect } from '../../guardrails/index.js';
import { KeywordAutomaton, MAX_PATTERN_MATCHES } from '../../guardrails/custom.js';

const hits = (text: string, rules: Parameters<typeof customDetector>[0]): string[] =>
  customDetector(rules)
    .scan(text)
    .sort((a, b) => a.start - b.start || a.type.localeCompare(b.type))
    .map((m) => `${m.type}:${text.slice(m.start, m.end)}`);

describe('customDetector', () => {
  test('keywords match literally, case-insensitively by default', () => {
    expect(hits('Project Falcon is CONFIDENTIAL. falcon!', [{ id: 'codename', keywords: ['falcon', 'Confidential'] }])).toEqual([
      'custom.codename:Falcon',
      'custom.codename:CONFIDENTIAL',
      'custom.codename:falcon',
    ]);
    expect(hits('Falcon falcon', [{ id: 'cs', keywords: ['falcon'], caseSensitive: true }])).toEqual(['custom.cs:falcon']);
  });
  test('keywords are literal: regex metacharacters and non-ASCII are plain text', () => {
    expect(hits('cost a.b* and ÄRGER, ärger', [{ id: 'k', keywords: ['a.b*', 'ärger'] }])).toEqual(['custom.k:a.b*', 'custom.k:ÄRGER', 'custom.k:ärger']);
  });
  test('overlapping and nested keywords: the longest ending at each position', () => {
    expect(hits('ushers', [{ id: 'k', keywords: ['he', 'she', 'his', 'hers'] }])).toEqual(['custom.k:she', 'custom.k:hers']);
    expect(hits('aaaa', [{ id: 'k', keywords: ['aa'] }])).toEqual(['custom.k:aa', 'custom.k:aa', 'custom.k:aa']);
  });
  test('agrees with a naive search on random inputs', () => {
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const word = (len: number) => Array.from({ length: len }, () => 'abc'[rand(3)]).join('');
    for (let round = 0; round < 200; round++) {
      const keywords = Array.from({ length: 1 + rand(5) }, () => word(1 + rand(4)));
      const text = word(40);
      const auto: string[] = [];
      new KeywordAutomaton(keywords, false).scan(text, (s, e) => auto.push(`${s}-${e}`));
      const naive: string[] = [];
      for (let end = 1; end <= text.length; end++) {
        const longest = keywords.filter((k) => text.slice(0, end).endsWith(k)).sort((a, b) => b.length - a.length)[0];
        if (longest) naive.push(`${end - longest.length}-${end}`);
      }
      expect(auto, `${keywords.join(',')} in ${text}`).toEqual(naive);
    }
  });
  test('patterns use RE2 syntax, case-insensitive unless caseSensitive', () => {
    const rules = [{ id: 'ticket', patterns: ['PROJ-[0-9]{4}'] }, { id: 'cs', patterns: ['Secret[A-Z]+'], caseSensitive: true }];
    expect(hits('see proj-1234 and PROJ-99999, SecretABC secretabc', rules)).toEqual(['custom.ticket:proj-1234', 'custom.ticket:PROJ-9999', 'custom.cs:SecretABC']);
  });
  test('offsets are UTF-16 offsets of the original string', () => {
    const text = '😀 é PROJ-1234';
    const [m] = customDetector([{ id: 't', patterns: ['proj-\\d+'] }]).scan(text);
    expect(text.slice(m?.start, m?.end)).toBe('PROJ-1234');
  });
  test('a rule with both keywords and patterns reports both; findings carry the rule id in the type', () => {
    const r = inspect({ a: 'alpha 123-45' }, [customDetector([{ id: 'mix', keywords: ['alpha'], patterns: ['\\d{3}-\\d{2}'] }])], { maxBytes: 100, maxDepth: 4 });
    expect(r.findings.map((f) => [f.type, f.category, f.detector, f.start, f.end])).toEqual([
      ['custom.mix', 'custom', 'custom', 0, 5],
      ['custom.mix', 'custom', 'custom', 6, 12],
    ]);
  });
  test.each([
    [[{ id: 'bad', patterns: ['(a)\\1'] }], /custom rule "bad": invalid or unsupported pattern "\(a\)\\\\1"/],
    [[{ id: 'look', patterns: ['(?=x)y'] }], /custom rule "look": invalid or unsupported pattern/],
    [[{ id: 'syntax', patterns: ['a(b'] }], /custom rule "syntax": invalid or unsupported pattern/],
    [[{ id: 'empty', patterns: ['a*'] }], /custom rule "empty": pattern "a\*" can match the empty string/],
    [[{ id: 'boundary', patterns: ['\\b'] }], /custom rule "boundary": pattern .* can match the empty string/],
    [[{ id: 'none' }], /custom rule "none" has neither keywords nor patterns/],
    [[{ id: 'blank', keywords: [''] }], /custom rule "blank": keywords must be non-empty strings/],
    [[{ id: 'has space', keywords: ['x'] }], /custom rule id "has space"/],
    [[{ id: 'dup', keywords: ['x'] }, { id: 'dup', keywords: ['y'] }], /custom rule "dup" is defined twice/],
    [[{ id: 'long', patterns: ['a'.repeat(1001)] }], /custom rule "long": pattern longer than 1000/],
  ])('rejects %j', (rules, message) => {
    expect(() => customDetector(rules)).toThrow(message);
  });
  test(`after ${MAX_PATTERN_MATCHES} matches of a pattern, the rest of the string is one match (fail closed)`, () => {
    const text = Array.from({ length: 40 }, (_, i) => `x${i}y`).join(' ');
    const ms = customDetector([{ id: 't', patterns: ['x\\d+y'] }]).scan(text);
    expect(ms).toHaveLength(MAX_PATTERN_MATCHES + 1);
    const last = ms[ms.length - 1];
    expect(last?.end).toBe(text.length);
    expect(text.slice(last?.start).includes(`x${MAX_PATTERN_MATCHES}y`)).toBe(true);
  });
});
