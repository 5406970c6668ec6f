import { Environment } from '@marcbachmann/cel-js';

/** What a `when` condition sees: the call's arguments and who makes it (docs/policy.md). */
export interface ExpressionContext {
  args: Record<string, unknown>;
  user: { sub: string; groups: readonly string[] };
  client: string;
  scopes: readonly string[];
  upstream: string;
  name: string;
}

// Bounds on what a condition may be; CEL itself has no loops beyond macros over its (bounded) input.
const environment = new Environment({
  unlistedVariablesAreDyn: false,
  limits: { maxAstNodes: 256, maxDepth: 16, maxListElements: 64, maxMapEntries: 64, maxCallArguments: 8 },
})
  .registerVariable('args', 'map')
  .registerVariable('user', 'map')
  .registerVariable('client', 'string')
  .registerVariable('scopes', 'list')
  .registerVariable('upstream', 'string')
  .registerVariable('name', 'string');

/** A compiled condition: true, false, or an error (a missing argument, a type mismatch). */
export type Condition = (context: ExpressionContext) => boolean;

// Loading a configuration validates each condition and then compiles the policy; thousands of tenants often share
// conditions. Each distinct source is compiled once (bounded: an unusual fleet simply compiles again).
const compiled = new Map<string, Condition>();
const MAX_COMPILED = 10_000;

/**
 * Compiles a CEL expression (https://cel.dev), once per distinct source; throws a readable message when it does
 * not parse, uses a variable that does not exist, or is not a boolean.
 */
export function compileCondition(source: string): Condition {
  let condition = compiled.get(source);
  if (!condition) {
    condition = compile(source);
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(source, condition);
  }
  return condition;
}

function compile(source: string): Condition {
  const parsed = environment.parse(source);
  const checked = parsed.check();
  if (!checked.valid) throw new Error(checked.error?.message.split('\n')[0] ?? 'invalid expression');
  if (checked.type !== 'bool' && checked.type !== 'dyn') throw new Error(`must be a boolean expression, not ${checked.type}`);
  return (context) => {
    const result: unknown = parsed(context as unknown as Record<string, unknown>);
    if (typeof result !== 'boolean') throw new Error('the condition did not evaluate to a boolean');
    return result;
  };
}
