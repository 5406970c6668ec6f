import { describe, expect, test } from 'vitest';
import { Policy, type Caller, type Decision, type Target } from '../../src/policy/engine.js';
import { policySchema, type PolicyConfig } from '../../src/policy/schema.js';
import { globMatcher } from '../../src/policy/glob.js';

const alice: Caller = { sub: 'local:alice', groups: ['engineering'], clientId: 'https://claude.ai/oauth/mcp-client', scopes: ['mcp'] };
const bob: Caller = { sub: 'local:bob', groups: [], clientId: 'inspector-123', scopes: ['mcp', 'notes:write'] };

const echo: Target = { kind: 'tool', upstream: 'demo', name: 'echo', annotations: { readOnlyHint: true } };
const noteWrite: Target = { kind: 'tool', upstream: 'demo', name: 'note_write', annotations: { destructiveHint: false } };
const wipe: Target = { kind: 'tool', upstream: 'files', name: 'wipe', annotations: { destructiveHint: true } };
const prompt: Target = { kind: 'prompt', upstream: 'demo', name: 'summarize' };
const resource: Target = { kind: 'resource', upstream: 'demo', name: 'demo://notes' };

/** Only the tenant scope notes:write can be obtained by stepping up. */
function policy(config: unknown): Policy {
  return new Policy(policySchema.parse(config) as PolicyConfig, { mayObtain: (_caller, scopes) => scopes.every((scope) => scope === 'notes:write') });
}

/** The expected decision, in part; `rule: undefined` means the default decided. */
type Expected = { effect: Decision['effect']; rule?: string | undefined; missingScopes?: string[] };
type Case = [string, unknown, Caller, Target, Record<string, unknown> | undefined, Expected];

const cases: Case[] = [
  ['no rules: the default allows', {}, alice, echo, {}, { effect: 'allow', rule: undefined }],
  ['no rules: a default of deny denies', { default: 'deny' }, alice, echo, {}, { effect: 'deny', rule: undefined }],
  ['an allow rule beats a default of deny', { default: 'deny', rules: [{ id: 'echo', effect: 'allow', tools: ['echo'] }] }, alice, echo, {}, { effect: 'allow', rule: 'echo' }],
  ['deny wins over allow, whatever the order', { rules: [{ id: 'all', effect: 'allow' }, { id: 'no-echo', effect: 'deny', tools: ['echo'] }] }, alice, echo, {}, { effect: 'deny', rule: 'no-echo' }],
  ['a glob matches names by pattern', { rules: [{ id: 'notes', effect: 'deny', tools: ['note_*'] }] }, alice, noteWrite, {}, { effect: 'deny', rule: 'notes' }],
  ['a glob does not match other names', { rules: [{ id: 'notes', effect: 'deny', tools: ['note_*'] }] }, alice, echo, {}, { effect: 'allow', rule: undefined }],
  ['globs match client ids (CIMD URLs)', { rules: [{ id: 'claude', effect: 'deny', clients: ['https://claude.ai/*'] }] }, alice, echo, {}, { effect: 'deny', rule: 'claude' }],
  ['client globs leave other clients alone', { rules: [{ id: 'claude', effect: 'deny', clients: ['https://claude.ai/*'] }] }, bob, echo, {}, { effect: 'allow' }],
  ['a rule for a user', { rules: [{ id: 'bob', effect: 'deny', users: ['local:bob'] }] }, bob, echo, {}, { effect: 'deny', rule: 'bob' }],
  ['a rule for a group', { default: 'deny', rules: [{ id: 'eng', effect: 'allow', groups: ['engineering'] }] }, alice, echo, {}, { effect: 'allow', rule: 'eng' }],
  ['a group rule skips non-members', { default: 'deny', rules: [{ id: 'eng', effect: 'allow', groups: ['engineering'] }] }, bob, echo, {}, { effect: 'deny', rule: undefined }],
  ['a rule for an upstream', { rules: [{ id: 'files', effect: 'deny', upstreams: ['files'] }] }, alice, wipe, {}, { effect: 'deny', rule: 'files' }],
  ['annotations: destructive tools denied', { rules: [{ id: 'destructive', effect: 'deny', annotations: { destructiveHint: true } }] }, alice, wipe, {}, { effect: 'deny', rule: 'destructive' }],
  ['annotations: a tool that says otherwise is not matched', { rules: [{ id: 'destructive', effect: 'deny', annotations: { destructiveHint: true } }] }, alice, noteWrite, {}, { effect: 'allow' }],
  ['annotations never match prompts', { rules: [{ id: 'ro', effect: 'deny', annotations: { readOnlyHint: true } }] }, alice, prompt, {}, { effect: 'allow' }],
  ['a tools rule does not apply to prompts', { rules: [{ id: 'tools', effect: 'deny', tools: ['*'] }] }, alice, prompt, {}, { effect: 'allow' }],
  ['a rule naming no kind applies to resources too', { rules: [{ id: 'everything', effect: 'deny', users: ['local:alice'] }] }, alice, resource, {}, { effect: 'deny', rule: 'everything' }],
  ['a resources glob matches URIs', { rules: [{ id: 'notes', effect: 'deny', resources: ['demo://*'] }] }, alice, resource, {}, { effect: 'deny', rule: 'notes' }],
  ['a condition on arguments allows a small sum', { default: 'deny', rules: [{ id: 'small', effect: 'allow', tools: ['add'], when: 'args.a < 100' }] }, alice, { kind: 'tool', upstream: 'demo', name: 'add' }, { a: 5 }, { effect: 'allow', rule: 'small' }],
  ['the same condition refuses a large one', { default: 'deny', rules: [{ id: 'small', effect: 'allow', tools: ['add'], when: 'args.a < 100' }] }, alice, { kind: 'tool', upstream: 'demo', name: 'add' }, { a: 500 }, { effect: 'deny', rule: undefined }],
  ['a deny condition that cannot be evaluated denies (fail closed)', { rules: [{ id: 'paths', effect: 'deny', when: '!args.path.startsWith("/tmp/")' }] }, alice, echo, { text: 'no path' }, { effect: 'deny', rule: 'paths' }],
  ['an allow condition that cannot be evaluated does not allow', { default: 'deny', rules: [{ id: 'paths', effect: 'allow', when: 'args.path.startsWith("/tmp/")' }] }, alice, echo, {}, { effect: 'deny', rule: undefined }],
  ['conditions see the caller', { rules: [{ id: 'eng-only', effect: 'deny', when: '!("engineering" in user.groups)' }] }, bob, echo, {}, { effect: 'deny', rule: 'eng-only' }],
  ['listing: a conditional deny does not hide', { rules: [{ id: 'paths', effect: 'deny', when: 'args.path == "/etc"' }] }, alice, echo, undefined, { effect: 'allow' }],
  ['listing: a conditional allow shows', { default: 'deny', rules: [{ id: 'small', effect: 'allow', when: 'args.a < 100' }] }, alice, echo, undefined, { effect: 'allow', rule: 'small' }],
  ['an allow rule needing a scope the caller lacks: step-up', { default: 'deny', rules: [{ id: 'write', effect: 'allow', tools: ['note_write'], scopes: ['notes:write'] }] }, alice, noteWrite, {}, { effect: 'step-up', rule: 'write', missingScopes: ['notes:write'] }],
  ['step-up also beats a default of allow', { rules: [{ id: 'write', effect: 'allow', tools: ['note_write'], scopes: ['notes:write'] }] }, alice, noteWrite, {}, { effect: 'step-up', missingScopes: ['notes:write'] }],
  ['with the scope, the same rule allows', { default: 'deny', rules: [{ id: 'write', effect: 'allow', tools: ['note_write'], scopes: ['notes:write'] }] }, bob, noteWrite, {}, { effect: 'allow', rule: 'write' }],
  ['a scope the client cannot obtain: deny, not step-up', { rules: [{ id: 'admin', effect: 'allow', tools: ['note_write'], scopes: ['admin'] }] }, alice, noteWrite, {}, { effect: 'deny', rule: 'admin' }],
  ['another allow rule that fully matches wins over step-up', { rules: [{ id: 'write', effect: 'allow', tools: ['note_write'], scopes: ['notes:write'] }, { id: 'eng', effect: 'allow', groups: ['engineering'] }] }, alice, noteWrite, {}, { effect: 'allow', rule: 'eng' }],
  ['a deny beats a step-up', { rules: [{ id: 'write', effect: 'allow', tools: ['note_write'], scopes: ['notes:write'] }, { id: 'no-claude', effect: 'deny', clients: ['https://claude.ai/*'] }] }, alice, noteWrite, {}, { effect: 'deny', rule: 'no-claude' }],
  ['listing keeps a step-up tool visible', { default: 'deny', rules: [{ id: 'write', effect: 'allow', tools: ['note_write'], scopes: ['notes:write'] }] }, alice, noteWrite, undefined, { effect: 'step-up' }],
];

describe('policy decisions', () => {
  test.each(cases)('%s', (_name, config, caller, target, args, expected) => {
    // `rule: undefined` in a case means the default decided: no rule is reported.
    expect({ rule: undefined, ...policy(config).decide(caller, target, args) }).toMatchObject(expected);
  });

  test('every decision says why: the rule description, or the rule id, or the default', () => {
    const described = policy({ rules: [{ id: 'no-wipe', effect: 'deny', tools: ['wipe'], description: 'wiping is done by the on-call team only' }] });
    expect(described.decide(alice, wipe, {})).toEqual({ effect: 'deny', rule: 'no-wipe', reason: 'wiping is done by the on-call team only' });
    expect(policy({ rules: [{ id: 'r1', effect: 'allow' }] }).decide(alice, echo, {})).toEqual({ effect: 'allow', rule: 'r1', reason: 'rule r1 allows it' });
    expect(policy({ default: 'deny' }).decide(alice, echo, {})).toEqual({ effect: 'deny', reason: 'no rule matches; the default is deny' });
  });
});

describe('globs', () => {
  test.each([
    ['*', 'anything', true],
    ['note_*', 'note_write', true],
    ['note_*', 'notes', false],
    ['*_write', 'note_write', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXbY', false],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
    ['**', '', true],
  ])('%s against %s: %s', (pattern, value, expected) => {
    expect(globMatcher(pattern)(value)).toBe(expected);
  });

  test('a pathological pattern stays cheap (no backtracking blow-up)', () => {
    const matches = globMatcher(`${'a*'.repeat(100)}b`);
    expect(matches('a'.repeat(5000))).toBe(false);
  });
});
