import { describe, expect, test } from 'vitest';
import {
  builtInDetectors,
  builtInTypes,
  detectorsFor,
  emailDetector,
  genericSecretDetector,
  inspect,
  nameSelector,
  parsePath,
  utf8Length,
  type Detector,
} from '../../guardrails/index.js';

const wide = { maxBytes: 1_000_000, maxDepth: 64 };

/** Reports every occurrence of "X" — makes paths and counts easy to see. */
const xDetector: Detector = {
  id: 'test.x',
  category: 'custom',
  scan: (text) => [...text.matchAll(/X/g)].map((m) => ({ type: 'test.x', start: m.index, end: m.index + 1, confidence: 1 })),
};

describe('inspect', () => {
  test('finds matches in string values and member names at normalized paths, in document order', () => {
    const doc = { content: [{ type: 'text', text: 'mail a@example.com' }], 'b@example.org': true, n: 1, ok: null };
    const { findings, overLimit } = inspect(doc, [emailDetector], wide);
    expect(overLimit).toBeUndefined();
    expect(findings).toEqual([
      { type: 'pii.email', start: 5, end: 18, confidence: 0.95, detector: 'pii.email', category: 'pii', path: "$['content'][0]['text']" },
      { type: 'pii.email', start: 0, end: 13, confidence: 0.95, detector: 'pii.email', category: 'pii', path: "$['b@example.org']", key: true },
    ]);
  });
  test('a root string is at $', () => {
    expect(inspect('X', [xDetector], wide).findings.map((f) => f.path)).toEqual(['$']);
  });
  test('escapes member names per RFC 9535 §2.7', () => {
    const doc = { "it's": 'X', 'back\\slash': 'X', 'tab\there': 'X', '\u0001': 'X', '"q"': 'X', 'ü 😀': 'X', '\ud800': 'X' };
    expect(inspect(doc, [xDetector], wide).findings.map((f) => f.path)).toEqual([
      "$['it\\'s']",
      "$['back\\\\slash']",
      "$['tab\\there']",
      "$['\\u0001']",
      `$['"q"']`,
      "$['ü 😀']",
      "$['\\ud800']",
    ]);
    for (const name of Object.keys(doc)) expect(parsePath(`$${nameSelector(name)}[3]`)).toEqual([name, 3]);
  });
  test('member values go through scanMember when a detector has one', () => {
    const doc = { password: 'Tr0ub4dor#2024', note: 'password: Tr0ub4dor#2024', list: ['Tr0ub4dor#2024'] };
    const paths = inspect(doc, [genericSecretDetector], wide).findings.map((f) => `${f.path} ${f.start}-${f.end}`);
    expect(paths).toEqual(["$['password'] 0-14", "$['note'] 10-24"]);
  });
  test('long integers are scanned as their decimal text', () => {
    const { findings } = inspect({ card: 4111111111111111, small: 42, float: 4.5 }, detectorsFor(['pii.card']), wide);
    expect(findings.map((f) => [f.path, f.start, f.end])).toEqual([["$['card']", 0, 16]]);
  });
  test('counts UTF-8 bytes of names and strings and stops past maxBytes', () => {
    expect(utf8Length('aé€😀')).toBe(1 + 2 + 3 + 4);
    expect(utf8Length('\ud800x')).toBe(4);
    const doc = { ab: 'XXXX', cd: 'XX' }; // 2 + 4 + 2 + 2 = 10 bytes
    expect(inspect(doc, [xDetector], { maxBytes: 10, maxDepth: 8 })).toEqual({ findings: expect.any(Array) });
    const cut = inspect(doc, [xDetector], { maxBytes: 9, maxDepth: 8 });
    expect(cut.overLimit).toBe('bytes');
    expect(cut.findings).toHaveLength(4); // the first string was read, the second was not
  });
  test('stops past maxDepth (the root container is depth 1)', () => {
    expect(inspect({ a: 'X' }, [xDetector], { maxBytes: 100, maxDepth: 1 }).overLimit).toBeUndefined();
    expect(inspect({ a: ['X'] }, [xDetector], { maxBytes: 100, maxDepth: 1 }).overLimit).toBe('depth');
    expect(inspect('X', [xDetector], { maxBytes: 100, maxDepth: 0 }).overLimit).toBeUndefined();
    expect(inspect([], [xDetector], { maxBytes: 100, maxDepth: 0 }).overLimit).toBe('depth');
  });
  test('deep nesting is walked without recursion and cut at the cap', () => {
    let deep: unknown = 'X';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const r = inspect(deep, [xDetector], { maxBytes: 100, maxDepth: 100_001 });
    expect(r.overLimit).toBeUndefined();
    expect(r.findings[0]?.path.length).toBe(1 + 3 * 100_000);
    expect(inspect(deep, [xDetector], { maxBytes: 100, maxDepth: 64 }).overLimit).toBe('depth');
  });
  test('a wide document: 10 000 members, each path built once', () => {
    const doc = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 'X']));
    const r = inspect(doc, [xDetector], wide);
    expect(r.findings).toHaveLength(10_000);
    expect(r.findings[9999]?.path).toBe("$['k9999']");
  });
  test('ignores values JSON cannot hold', () => {
    expect(inspect({ f: () => 'X', u: undefined, b: true, big: 10n }, [xDetector], wide)).toEqual({ findings: [] });
  });
});

describe('registry', () => {
  test('every built-in detector is registered under the one type it reports', () => {
    expect(builtInTypes).toHaveLength(26);
    for (const type of builtInTypes) {
      const d = builtInDetectors[type];
      expect(d?.id).toBe(type);
      expect(d?.category).toBe(type.split('.')[0]);
    }
  });
  test('detectorsFor picks by type, category wildcard or *, once each, and rejects unknown selectors', () => {
    expect(detectorsFor(['pii.email']).map((d) => d.id)).toEqual(['pii.email']);
    expect(detectorsFor(['pii.*']).map((d) => d.id)).toEqual(['pii.email', 'pii.phone', 'pii.card', 'pii.iban', 'pii.ssn', 'pii.ip']);
    expect(detectorsFor(['secret.*', 'secret.jwt']).length).toBe(13);
    expect(detectorsFor(['injection.*']).length).toBe(7);
    expect(detectorsFor(['*']).length).toBe(26);
    expect(() => detectorsFor(['pii.emial'])).toThrow(/unknown detector selector "pii.emial"/);
    expect(() => detectorsFor(['poisoning.*'])).toThrow(/unknown detector selector/);
  });
});
