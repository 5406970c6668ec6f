/**
 * The linear-time guarantee, checked on the code rather than on a clock: the library's source is parsed and every
 * regular expression in it must be anchored and judged 'safe' by the recheck ReDoS analyser (today there are none:
 * the detectors are hand-written scanners), the caps that bound per-trigger work are finite constants, and the
 * custom rules run on re2js. Then adversarial inputs that break backtracking engines or naive scanners are run
 * through every detector and must come back with the right answer.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkSync } from 'recheck';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';
import { MAX_KEYWORD_LENGTH, MAX_PATTERN_LENGTH, MAX_PATTERN_MATCHES, customDetector } from '../../guardrails/custom.js';
import { builtInDetectors, inspect } from '../../guardrails/index.js';

const dir = join(import.meta.dirname, '../../guardrails');
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

interface Found {
  file: string;
  kind: 'literal' | 'constructor' | 'eval';
  source: string;
  flags: string;
}

function audit(): Found[] {
  const found: Found[] = [];
  for (const file of files) {
    const sf = ts.createSourceFile(file, readFileSync(join(dir, file), 'utf8'), ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node): void => {
      if (ts.isRegularExpressionLiteral(node)) {
        const text = node.text;
        const end = text.lastIndexOf('/');
        found.push({ file, kind: 'literal', source: text.slice(1, end), flags: text.slice(end + 1) });
      } else if ((ts.isNewExpression(node) || ts.isCallExpression(node)) && ts.isIdentifier(node.expression)) {
        const name = node.expression.text;
        if (name === 'RegExp') found.push({ file, kind: 'constructor', source: node.getText(sf), flags: '' });
        if (name === 'Function' || name === 'eval') found.push({ file, kind: 'eval', source: node.getText(sf), flags: '' });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return found;
}

describe('no backtracking blow-up by construction', () => {
  test('the audit sees regex literals and constructors (self-check on a sample)', () => {
    const sf = ts.createSourceFile('x.ts', 'const a = /^x+$/u; const b = new RegExp("y");', ts.ScriptTarget.ES2022, true);
    let literals = 0;
    let constructors = 0;
    const visit = (n: ts.Node): void => {
      if (ts.isRegularExpressionLiteral(n)) literals++;
      if (ts.isNewExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'RegExp') constructors++;
      ts.forEachChild(n, visit);
    };
    visit(sf);
    expect([literals, constructors]).toEqual([1, 1]);
  });
  test('recheck tells a vulnerable pattern from a safe one (so its verdict below means something)', () => {
    expect(checkSync('^(a+)+$', '').status).toBe('vulnerable');
    expect(checkSync('^[a-z]{1,64}$', '').status).toBe('safe');
  });
  test('every RegExp in guardrails/ is anchored and ReDoS-safe; no RegExp constructors, eval or new Function', () => {
    const found = audit();
    expect(found.filter((f) => f.kind !== 'literal')).toEqual([]);
    for (const f of found) {
      expect(f.source.startsWith('^') && f.source.endsWith('$'), `${f.file}: /${f.source}/ must be anchored`).toBe(true);
      expect(checkSync(f.source, f.flags).status, `${f.file}: /${f.source}/`).toBe('safe');
    }
    // Today the detectors are all hand-written scanners: keep it that way unless a pattern passes the checks above.
    expect(found).toEqual([]);
  });
  test('the caps on custom rules are finite', () => {
    for (const cap of [MAX_PATTERN_LENGTH, MAX_KEYWORD_LENGTH, MAX_PATTERN_MATCHES]) {
      expect(Number.isInteger(cap) && cap > 0 && cap <= 1000).toBe(true);
    }
  });
});

const MB = 1 << 20;
const all = Object.values(builtInDetectors);
const scanAll = (text: string): string[] => all.flatMap((d) => d.scan(text).map((m) => `${m.type}:${m.start}`));

describe('adversarial inputs', () => {
  test.each([
    ['1 MB of one letter', 'a'.repeat(MB)],
    ['1 MB of one digit', '7'.repeat(MB)],
    ['1 MB of at-signs', '@'.repeat(MB)],
    ['1 MB of spaces', ' '.repeat(MB)],
    ['a.a.a.a…', 'a.'.repeat(MB / 2)],
    ['1.1.1.1…', '1.'.repeat(MB / 2)],
    ['1 1 1 1…', '1 '.repeat(MB / 2)],
    ['1-1-1-1…', '1-'.repeat(MB / 2)],
    ['a@a@a@…', 'a@'.repeat(MB / 2)],
    ['%40%40…', '%40'.repeat(MB / 3)],
    ['a:a:a:…', 'a:'.repeat(MB / 2)],
    ['::::', ':'.repeat(MB)],
    ['=====', '='.repeat(MB)],
    ['password=password=…', 'password='.repeat(MB / 9)],
    ['token: "token: "…', 'token: "'.repeat(MB / 8)],
    ['eyJeyJ…', 'eyJ'.repeat(MB / 3)],
    ['eyJ.eyJ.…', 'eyJ.'.repeat(MB / 4)],
    ['-----BEGIN …', '-----BEGIN '.repeat(MB / 11)],
    ['ghp_ghp_…', 'ghp_'.repeat(MB / 4)],
    ['AKIAAKIA…', 'AKIA'.repeat(MB / 4)],
    ['bearer bearer …', 'bearer '.repeat(MB / 7)],
    [':// ://…', '://'.repeat(MB / 3)],
    ['?token=?token=…', '?token='.repeat(MB / 7)],
    ['(1)(1)…', '(1)'.repeat(MB / 3)],
    ['+1+1…', '+1'.repeat(MB / 2)],
    ['DE89DE89…', 'DE89 '.repeat(MB / 5)],
  ])('%s: no findings', (_name, text) => {
    expect(scanAll(text)).toEqual([]);
  });
  test('a private key header repeated: one finding to the end of the text', () => {
    const text = '-----BEGIN PRIVATE KEY-----\n'.repeat(MB / 28);
    expect(builtInDetectors['secret.private_key']?.scan(text)).toEqual([{ type: 'secret.private_key', start: 0, end: text.length, confidence: 0.99 }]);
  });
  test('many real findings in a large string are all reported', () => {
    const text = 'mail a@example.com, call 415-555-0132; '.repeat(20_000);
    const found = inspect(text, all, { maxBytes: 10 * MB, maxDepth: 4 }).findings;
    expect(found.filter((f) => f.type === 'pii.email')).toHaveLength(20_000);
    expect(found.filter((f) => f.type === 'pii.phone')).toHaveLength(20_000);
  });
  test('keywords on 1 MB and a pathological custom pattern (x*y|x) stay within the match cap', () => {
    const d = customDetector([{ id: 'k', keywords: ['aaaaab', 'ab', 'b'] }, { id: 'p', patterns: ['x*y|x'] }]);
    expect(d.scan('a'.repeat(MB))).toEqual([]);
    const ms = d.scan('x'.repeat(100_000));
    expect(ms).toHaveLength(MAX_PATTERN_MATCHES + 1);
    expect(ms[ms.length - 1]).toMatchObject({ start: MAX_PATTERN_MATCHES, end: 100_000 });
  });
});
