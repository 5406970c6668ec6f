import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, definitionHash } from '../../guardrails/index.js';
import { MAX_DEPTH } from '../../guardrails/canonical-json.js';

/** An IEEE-754 double from its 16-hex-digit bit pattern (as RFC 8785 Appendix B lists them). */
function double(bits: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${bits}`));
  return view.getFloat64(0);
}

describe('canonicalJson (RFC 8785)', () => {
  it('serializes the RFC §3.2.2 sample', () => {
    const input = JSON.parse(
      '{\n  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n' +
        '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n  "literals": [null, true, false]\n}',
    ) as unknown;
    const out = canonicalJson(input);
    expect(out).toBe('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
    // §3.2.4: the UTF-8 bytes of the result.
    expect(Buffer.from(out, 'utf8').toString('hex')).toBe(
      [
        '7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72',
        '75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a',
        '5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31',
        '65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37',
        '5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30',
        '30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d',
      ]
        .join(' ')
        .replaceAll(' ', ''),
    );
  });

  it('sorts members by UTF-16 code units (RFC §3.2.3)', () => {
    const input = JSON.parse(
      '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One",' +
        '"\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}',
    ) as unknown;
    // (Checked on the text: JS objects list integer-like keys such as "1" first, whatever the insertion order.)
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",' +
        '"😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('serializes numbers as in RFC Appendix B', () => {
    const table: [string, string][] = [
      ['0000000000000000', '0'], ['8000000000000000', '0'], ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'], ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'], ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'], ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'], ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'], ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'], ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'], ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'], ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'], ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'], ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [bits, text] of table) expect(canonicalJson(double(bits)), bits).toBe(text);
  });

  it('rejects NaN and infinities (RFC Appendix B)', () => {
    for (const bits of ['7fffffffffffffff', '7ff0000000000000', 'fff0000000000000']) {
      expect(() => canonicalJson([double(bits)])).toThrow(TypeError);
    }
  });

  it('escapes strings like JSON.stringify and keeps non-ASCII as is', () => {
    const s = 'a"b\\c/\b\f\n\r\t\u0000\u001f\u007f\u2028é😀';
    expect(canonicalJson(s)).toBe(JSON.stringify(s));
    expect(canonicalJson(s)).toBe('"a\\"b\\\\c/\\b\\f\\n\\r\\t\\u0000\\u001f\u007f\u2028é😀"');
  });

  it('accepts only JSON data', () => {
    expect(canonicalJson({ a: undefined, b: [1, { c: null }] })).toBe('{"b":[1,{"c":null}]}');
    expect(canonicalJson(Object.assign(Object.create(null) as object, { z: 1, a: 2 }))).toBe('{"a":2,"z":1}');
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
    expect(() => canonicalJson([undefined])).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(TypeError);
    expect(() => canonicalJson(1n)).toThrow(TypeError);
    expect(() => canonicalJson(new Date(0))).toThrow(TypeError);
    expect(() => canonicalJson(new Map())).toThrow(TypeError);
    expect(() => canonicalJson('\ud800')).toThrow(TypeError);
    expect(() => canonicalJson({ '\udc00x': 1 })).toThrow(TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(TypeError);
  });

  it('handles repeated (non-cyclic) references and bounds nesting', () => {
    const shared = { x: 1 };
    expect(canonicalJson([shared, shared])).toBe('[{"x":1},{"x":1}]');
    let deep: unknown = 0;
    for (let i = 0; i < MAX_DEPTH; i++) deep = [deep];
    expect(canonicalJson(deep).length).toBe(2 * MAX_DEPTH + 1);
    expect(() => canonicalJson([deep])).toThrow(RangeError);
  });

  it('is stable under member order and whitespace of the source', () => {
    const a = JSON.parse('{ "b": [1, 2.0, {"y": "é", "x": -0}], "a": 1e2 }') as unknown;
    const b = JSON.parse('{"a":100,"b":[1,2,{"x":0,"y":"\\u00e9"}]}') as unknown;
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"a":100,"b":[1,2,{"x":0,"y":"é"}]}');
  });
});

describe('definitionHash', () => {
  const tool = {
    name: 'get_weather',
    description: 'Get the weather for a city.',
    inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  };

  it('is base64url(SHA-256(canonical JSON of the pinned members))', async () => {
    const expected = createHash('sha256').update(canonicalJson(tool), 'utf8').digest('base64url');
    const hash = await definitionHash(tool);
    expect(hash).toBe(expected);
    expect(hash).toHaveLength(43);
    expect(hash.includes('=') || hash.includes('+') || hash.includes('/')).toBe(false);
  });

  it('ignores member order, undefined members and unpinned members', async () => {
    const reordered = { inputSchema: { required: ['city'], properties: { city: { type: 'string' } }, type: 'object' }, description: tool.description, name: tool.name };
    const extra = { ...tool, title: undefined, _meta: { 'x-build': 7 }, icons: [] } as typeof tool & { title: undefined };
    expect(await definitionHash(reordered)).toBe(await definitionHash(tool));
    expect(await definitionHash(extra)).toBe(await definitionHash(tool));
  });

  it('changes when anything pinned changes', async () => {
    const base = await definitionHash(tool);
    const variants = [
      { ...tool, description: `${tool.description} ` },
      { ...tool, title: 'Weather' },
      { ...tool, annotations: { readOnlyHint: true } },
      { ...tool, outputSchema: { type: 'object' } },
      { ...tool, inputSchema: { ...tool.inputSchema, required: [] } },
      { ...tool, name: 'get_weather2' },
    ];
    const hashes = await Promise.all(variants.map((v) => definitionHash(v)));
    expect(new Set([base, ...hashes]).size).toBe(variants.length + 1);
  });
});
