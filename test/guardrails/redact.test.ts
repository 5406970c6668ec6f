import { describe, expect, test } from 'vitest';
import { builtInDetectors, inspect, redact, redactString, type Finding } from '../../guardrails/index.js';

const all = Object.values(builtInDetectors);
const limits = { maxBytes: 1_000_000, maxDepth: 64 };
const f = (path: string, start: number, end: number, type = 'pii.email', key?: true): Finding => ({
  type,
  start,
  end,
  confidence: 1,
  detector: type,
  category: 'pii',
  path,
  ...(key ? { key } : {}),
});

describe('redactString', () => {
  test('replaces spans with typed markers and merges overlaps', () => {
    expect(redactString('a bc de', [{ start: 2, end: 4, type: 'x' }])).toBe('a [REDACTED:x] de');
    expect(redactString('0123456789', [{ start: 5, end: 8, type: 'b' }, { start: 1, end: 3, type: 'a' }, { start: 2, end: 6, type: 'c' }])).toBe('0[REDACTED:a]89');
    expect(redactString('abcdef', [{ start: 1, end: 3, type: 'a' }, { start: 3, end: 5, type: 'b' }])).toBe('a[REDACTED:a][REDACTED:b]f');
    expect(redactString('abc', [{ start: 1, end: 2, type: 'short' }, { start: 1, end: 3, type: 'long' }])).toBe('a[REDACTED:long]');
  });
  test('clamps spans and never splits a surrogate pair', () => {
    expect(redactString('ab', [{ start: -5, end: 99, type: 'x' }])).toBe('[REDACTED:x]');
    expect(redactString('a😀b', [{ start: 2, end: 3, type: 'x' }])).toBe('a[REDACTED:x]b');
    expect(redactString('ab', [{ start: 1, end: 1, type: 'x' }])).toBe('ab');
  });
});

describe('redact', () => {
  test('redacts what inspect found and leaves everything else identical', () => {
    const doc = {
      tool: 'send',
      arguments: { to: ['alice@example.com', 'ok'], body: 'call 415-555-0132 or mail bob@example.org', n: 3, flag: false, none: null },
    };
    const before = JSON.stringify(doc);
    const out = redact(doc, inspect(doc, all, limits).findings);
    expect(out).toEqual({
      tool: 'send',
      arguments: { to: ['[REDACTED:pii.email]', 'ok'], body: 'call [REDACTED:pii.phone] or mail [REDACTED:pii.email]', n: 3, flag: false, none: null },
    });
    expect(JSON.stringify(doc)).toBe(before); // input untouched
    expect(JSON.parse(JSON.stringify(out))).toEqual(out); // still valid JSON
  });
  test('the result shares nothing with the input', () => {
    const doc = { a: { b: [1, { c: 'x' }] } };
    const out = redact(doc, []) as typeof doc;
    expect(out).toEqual(doc);
    expect(out.a).not.toBe(doc.a);
    expect(out.a.b).not.toBe(doc.a.b);
    expect(out.a.b[1]).not.toBe(doc.a.b[1]);
  });
  test('redacts member names, keeps order and keeps names unique', () => {
    const doc = { first: 1, 'a@example.com': 'x', '[REDACTED:pii.email]': 'existing', 'b@example.com': 'y', last: 2 };
    const out = redact(doc, inspect(doc, [builtInDetectors['pii.email']!], limits).findings) as Record<string, unknown>;
    expect(Object.entries(out)).toEqual([
      ['first', 1],
      ['[REDACTED:pii.email]#2', 'x'],
      ['[REDACTED:pii.email]', 'existing'],
      ['[REDACTED:pii.email]#3', 'y'],
      ['last', 2],
    ]);
  });
  test('a finding in a name and in its value both apply', () => {
    const doc = { 'a@example.com': 'b@example.com' };
    expect(redact(doc, inspect(doc, all, limits).findings)).toEqual({ '[REDACTED:pii.email]': '[REDACTED:pii.email]' });
  });
  test('a scanned integer becomes a string with its marker', () => {
    const doc = { card: 4111111111111111 };
    expect(redact(doc, inspect(doc, all, limits).findings)).toEqual({ card: '[REDACTED:pii.card]' });
  });
  test('a root string, arrays of arrays, and "__proto__" members', () => {
    expect(redact('mail a@example.com', [f('$', 5, 18)])).toBe('mail [REDACTED:pii.email]');
    expect(redact([['x', 'a@example.com']], [f('$[0][1]', 0, 13)])).toEqual([['x', '[REDACTED:pii.email]']]);
    const doc = JSON.parse('{"__proto__": {"mail": "a@example.com"}}') as object;
    const out = redact(doc, [f("$['__proto__']['mail']", 0, 13)]) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(JSON.stringify(out)).toBe('{"__proto__":{"mail":"[REDACTED:pii.email]"}}');
  });
  test('ignores findings at paths the value does not have, rejects malformed paths', () => {
    expect(redact({ a: 'x' }, [f("$['b']", 0, 1), f('$[3]', 0, 1)])).toEqual({ a: 'x' });
    expect(() => redact({ a: 'x' }, [f("$.a", 0, 1)])).toThrow(/not a normalized path/);
  });
  test('escaped names round-trip from inspect to redact', () => {
    const doc = { "it's\n": { 'ü\\': 'mail a@example.com' } };
    expect(redact(doc, inspect(doc, all, limits).findings)).toEqual({ "it's\n": { 'ü\\': 'mail [REDACTED:pii.email]' } });
  });
  test('deep documents are copied without recursion', () => {
    let deep: unknown = 'a@example.com';
    for (let i = 0; i < 50_000; i++) deep = { d: deep };
    const findings = inspect(deep, all, { maxBytes: 1_000_000, maxDepth: 60_000 }).findings;
    let out = redact(deep, findings);
    for (let i = 0; i < 50_000; i++) out = (out as { d: unknown }).d;
    expect(out).toBe('[REDACTED:pii.email]');
  });
});
