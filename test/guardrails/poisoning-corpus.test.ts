import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injectionDetectors, inspectToolDefinition, type ToolDefinition } from '../../guardrails/index.js';
import { githubTools, referenceTools, thirdPartyTools } from './corpus/tool-benign.js';
import { holdoutBenign, holdoutPoisoned } from './corpus/tool-holdout.js';
import { poisonedTools } from './corpus/tool-poisoned.js';
import { Tally } from './metrics.js';

const OPERATING_POINT = 0.5;
const KINDS = [
  'tag', 'instruction', 'concealment', 'credential', 'shadowing', 'sensitive-file',
  'override', 'role', 'extraction', 'delimiter', 'hidden', 'encoded', 'exfiltration',
] as const;
/** Per type, and for "any poisoning" per definition. Chosen from the measured table (see the report). */
const MIN_PRECISION = 0.95;
const MIN_RECALL = 0.9;
const HOLDOUT_MIN_PRECISION = 0.8;
const HOLDOUT_MIN_RECALL = 0.6;

/** server-everything, listed live over an in-memory transport (the package ships no types: imported by name). */
let everything: { tools: ToolDefinition[]; instructions: string; close: () => Promise<void> };

beforeAll(async () => {
  const spec = '@modelcontextprotocol/server-everything/dist/server/index.js';
  type Factory = { createServer: () => { server: { connect(t: unknown): Promise<void>; close(): Promise<void> }; cleanup(id?: string): void } };
  const { server, cleanup } = ((await import(spec)) as Factory).createServer();
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'guardrails-corpus', version: '1' }, { capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } } });
  await client.connect(clientSide);
  const { tools } = await client.listTools();
  everything = {
    tools: tools as ToolDefinition[],
    instructions: client.getInstructions() ?? '',
    close: async () => {
      await client.close();
      cleanup();
      await server.close();
    },
  };
});

afterAll(async () => {
  await everything.close();
});

const typesAt = (tool: ToolDefinition, min: number): Set<string> =>
  new Set(inspectToolDefinition(tool).filter((f) => f.confidence >= min).map((f) => f.type));

describe('tool-poisoning corpus', () => {
  it('lists server-everything live', () => {
    expect(everything.tools.length).toBeGreaterThanOrEqual(12);
    expect(everything.instructions.length).toBeGreaterThan(100);
  });

  it(`meets precision ≥ ${MIN_PRECISION} and recall ≥ ${MIN_RECALL} per type at confidence ≥ ${OPERATING_POINT}`, () => {
    const benign: { note: string; tool: ToolDefinition }[] = [
      ...githubTools().map((t) => ({ note: `github ${t.name}`, tool: t })),
      ...everything.tools.map((t) => ({ note: `everything ${t.name}`, tool: t })),
      ...referenceTools.map((t) => ({ note: `reference ${t.name}`, tool: t })),
      ...thirdPartyTools.map((t) => ({ note: `third-party ${t.name}`, tool: t })),
    ];
    const perType = new Tally(KINDS.map((k) => `poisoning.${k}`));
    const perDefinition = new Tally(['poisoned definition']);
    for (const s of poisonedTools) {
      const found = typesAt(s.tool, OPERATING_POINT);
      perType.add(s.note, new Set(s.labels.map((k) => `poisoning.${k}`)), found, typesAt(s.tool, Number.MIN_VALUE));
      perDefinition.add(s.note, new Set(['poisoned definition']), new Set(found.size > 0 ? ['poisoned definition'] : []), new Set());
    }
    for (const s of benign) {
      const found = typesAt(s.tool, OPERATING_POINT);
      perType.add(s.note, new Set(), found, typesAt(s.tool, Number.MIN_VALUE));
      perDefinition.add(s.note, new Set(), new Set(found.size > 0 ? ['poisoned definition'] : []), new Set());
    }
    console.log(
      `${perType.table(`tool-poisoning corpus: ${poisonedTools.length} poisoned, ${benign.length} benign definitions`)}\n` +
        `${perDefinition.table('per definition')}\n${perType.misses.join('\n')}`,
    );
    for (const k of KINDS) {
      const row = perType.get(`poisoning.${k}`);
      expect(Tally.precision(row), `precision ${k}`).toBeGreaterThanOrEqual(MIN_PRECISION);
      expect(Tally.recall(row), `recall ${k}`).toBeGreaterThanOrEqual(MIN_RECALL);
    }
    const def = perDefinition.get('poisoned definition');
    expect(def.fp).toBe(0);
    expect(def.fn).toBe(0);
  });

  it('held-out definitions (not tuned against): reported per definition, with looser floors', () => {
    const held = new Tally(['poisoned definition']);
    const flagged = (tool: ToolDefinition): Set<string> => new Set(typesAt(tool, OPERATING_POINT).size > 0 ? ['poisoned definition'] : []);
    for (const s of holdoutPoisoned) held.add(s.note, new Set(['poisoned definition']), flagged(s.tool), new Set());
    for (const tool of holdoutBenign) held.add(`h: ${tool.name}`, new Set(), flagged(tool), new Set());
    const kinds = holdoutPoisoned.map((s) => `${s.note}: want ${s.labels.join(',')} got ${[...typesAt(s.tool, OPERATING_POINT)].join(',')}`);
    console.log(`${held.table(`tool-poisoning held-out: ${holdoutPoisoned.length} poisoned, ${holdoutBenign.length} benign`)}\n${held.misses.join('\n')}\n${kinds.join('\n')}`);
    const row = held.get('poisoned definition');
    expect(Tally.precision(row)).toBeGreaterThanOrEqual(HOLDOUT_MIN_PRECISION);
    expect(Tally.recall(row)).toBeGreaterThanOrEqual(HOLDOUT_MIN_RECALL);
  });

  it('flags none of the real-world definitions at the operating point', () => {
    for (const t of [...githubTools(), ...everything.tools, ...referenceTools]) {
      expect(inspectToolDefinition(t).filter((f) => f.confidence >= OPERATING_POINT), t.name).toEqual([]);
    }
  });

  it("finds no injection in server-everything's own instructions document", () => {
    const hits = injectionDetectors.flatMap((d) => d.scan(everything.instructions)).filter((m) => m.confidence >= OPERATING_POINT);
    expect(hits).toEqual([]);
  });
});
