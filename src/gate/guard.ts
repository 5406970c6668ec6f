import type { JsonSchemaType, jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import { inspect, redact } from '../../guardrails/index.js';
import type { Finding } from '../../guardrails/types.js';
import type { Logger } from '../../oauth/types.js';
import { classify, type ClassifierConfig } from '../guard/classifier.js';
import type { ContentKind, Direction, GuardRule, TenantGuard } from '../guard/compile.js';
import { protocolError } from '../mcp/upstream-errors.js';
import type { Metrics } from '../observe/metrics.js';

/** JSON-RPC code of a message a guardrail blocked; `data` names the rule and the finding types and paths, never values. */
export const GUARDRAIL_BLOCKED = -32014;

export interface GuardContext {
  tenant: string;
  guard: TenantGuard;
  logger: Logger;
  metrics: Metrics;
  /** Validates a redacted `structuredContent` against the tool's `outputSchema`. */
  validator: jsonSchemaValidator;
  /** Reaches a tenant's external classifier. */
  fetch: typeof fetch;
}

/** What is being inspected: which way it goes and what it is (a tool by its upstream name, or another request). */
export interface GuardTarget {
  direction: Direction;
  kind: ContentKind;
  upstream: string;
  /** The tool, prompt or resource as the upstream names it, or the request method (sampling, elicitation). */
  name: string;
  /** A tool result's declared output schema: a redaction must leave `structuredContent` valid against it. */
  outputSchema?: JsonSchemaType | undefined;
}

const SEVERITY = { flag: 0, redact: 1, block: 2 } as const;
const MAX_REPORTED = 20;

/** The finding as logs and errors show it: where and what, never the matched text. */
const described = (finding: Finding) => ({ type: finding.type, path: finding.path, detector: finding.detector, confidence: finding.confidence });

/**
 * The `guard in` and `guard out` gates of ../shared/DESIGN.md: inspects a message with the detectors the tenant's
 * rules need, then blocks it (a JSON-RPC error naming the rule), redacts spans (typed markers, the JSON kept valid)
 * or lets it pass with the findings logged. Each finding takes the most severe action among the rules matching it.
 * A message over the size or depth cap is blocked unless the tenant chose `overLimit: flag`.
 */
export async function guardContent<T>(ctx: GuardContext, target: GuardTarget, value: T): Promise<T> {
  const checked = applyRules(ctx, target, value);
  const classifier = ctx.guard.config.classifier;
  if (!classifier || !classifier.directions.includes(target.direction)) return checked;
  await consultClassifier(ctx, classifier, target, checked);
  return checked;
}

/**
 * The tenant's external classifier, after the detectors (so it judges what would pass, redactions made): `block`
 * blocks, `flag` is logged and counted, and a classifier that cannot answer blocks or lets the message pass as
 * `onError` says.
 */
async function consultClassifier(ctx: GuardContext, config: ClassifierConfig, target: GuardTarget, content: unknown): Promise<void> {
  const verdict = await classify(config, { tenant: ctx.tenant, direction: target.direction, upstream: target.upstream, name: target.name, content }, ctx.fetch);
  const where = { tenant: ctx.tenant, direction: target.direction, upstream: target.upstream, name: target.name };
  const count = (action: string) => ctx.metrics.guardFindings.inc({ tenant: ctx.tenant, direction: target.direction, type: 'classifier', action });
  if ('unavailable' in verdict) {
    count(config.onError === 'deny' ? 'unavailable_block' : 'unavailable_pass');
    ctx.logger.warn({ ...where, reason: verdict.unavailable, onError: config.onError }, config.onError === 'deny' ? 'the classifier gave no verdict; blocked (onError: deny)' : 'the classifier gave no verdict; passed (onError: allow)');
    if (config.onError === 'deny') throw protocolError(GUARDRAIL_BLOCKED, 'blocked: the content classifier is unavailable', { rule: 'classifier', reason: 'classifier_unavailable' });
    return;
  }
  if (verdict.verdict === 'allow') return;
  count(verdict.verdict);
  ctx.logger.warn({ ...where, categories: verdict.categories, reason: verdict.reason }, verdict.verdict === 'block' ? 'the classifier blocked a message' : 'the classifier flagged a message');
  if (verdict.verdict === 'block') throw protocolError(GUARDRAIL_BLOCKED, 'blocked by the content classifier', { rule: 'classifier', ...(verdict.categories && { categories: verdict.categories }) });
}

/** The built-in and custom detectors under the tenant's rules. */
function applyRules<T>(ctx: GuardContext, target: GuardTarget, value: T): T {
  const plan = ctx.guard.plan(target.direction, target.kind, target.kind === 'tool' ? target.name : undefined);
  if (plan.rules.length === 0) return value;
  const { maxBytes, maxDepth, overLimit } = ctx.guard.config;
  const inspection = inspect(value, plan.detectors, { maxBytes, maxDepth });
  const where = { tenant: ctx.tenant, direction: target.direction, upstream: target.upstream, name: target.name };
  if (inspection.overLimit) {
    ctx.metrics.guardFindings.inc({ tenant: ctx.tenant, direction: target.direction, type: `limit.${inspection.overLimit}`, action: overLimit });
    ctx.logger.warn({ ...where, overLimit: inspection.overLimit }, overLimit === 'block' ? 'a message over the guardrails cap was blocked' : 'a message over the guardrails cap passed partly inspected (overLimit: flag)');
    if (overLimit === 'block') throw protocolError(GUARDRAIL_BLOCKED, `blocked: the message is over the guardrails ${inspection.overLimit === 'bytes' ? 'size' : 'depth'} cap`, { reason: `over_${inspection.overLimit}` });
  }
  const decided = inspection.findings.flatMap((finding) => {
    const rule = strictest(plan.rules, finding);
    return rule ? [{ finding, rule }] : [];
  });
  if (decided.length === 0) return value;
  for (const { finding, rule } of decided) ctx.metrics.guardFindings.inc({ tenant: ctx.tenant, direction: target.direction, type: finding.type, action: rule.config.action });
  const blocking = decided.find(({ rule }) => rule.config.action === 'block');
  if (blocking) {
    const findings = decided.filter(({ rule }) => rule.config.action === 'block').slice(0, MAX_REPORTED).map(({ finding }) => described(finding));
    ctx.logger.warn({ ...where, rule: blocking.rule.config.id, findings }, 'a guardrail blocked a message');
    throw protocolError(GUARDRAIL_BLOCKED, `blocked by guardrail "${blocking.rule.config.id}": ${blocking.finding.type} at ${blocking.finding.path}`, {
      rule: blocking.rule.config.id,
      findings: findings.map(({ type, path }) => ({ type, path })),
    });
  }
  const flagged = decided.filter(({ rule }) => rule.config.action === 'flag');
  if (flagged.length > 0) ctx.logger.warn({ ...where, findings: flagged.slice(0, MAX_REPORTED).map(({ finding, rule }) => ({ ...described(finding), rule: rule.config.id })) }, 'a guardrail flagged a message');
  const redactions = decided.filter(({ rule }) => rule.config.action === 'redact');
  if (redactions.length === 0) return value;
  const redacted = redact(value, redactions.map(({ finding }) => finding)) as T;
  const rules = [...new Set(redactions.map(({ rule }) => rule.config.id))];
  if (target.outputSchema && !structuredContentValid(ctx, target.outputSchema, redacted)) {
    ctx.logger.warn({ ...where, rules }, 'a redaction would break the tool\'s output schema; blocked instead');
    throw protocolError(GUARDRAIL_BLOCKED, `blocked by guardrail "${rules[0]}": redacting the result would break the tool's output schema`, { rule: rules[0], reason: 'redaction_breaks_output_schema' });
  }
  ctx.logger.info({ ...where, rules, findings: redactions.slice(0, MAX_REPORTED).map(({ finding }) => described(finding)) }, 'a guardrail redacted a message');
  return redacted;
}

/** The rule with the most severe action among those that match a finding's type at its confidence. */
function strictest(rules: readonly GuardRule[], finding: Finding): GuardRule | undefined {
  let chosen: GuardRule | undefined;
  for (const rule of rules) {
    if (finding.confidence < rule.config.minConfidence || !rule.detects(finding.type)) continue;
    if (!chosen || SEVERITY[rule.config.action] > SEVERITY[chosen.config.action]) chosen = rule;
  }
  return chosen;
}

/** Compiled output schemas, by the schema object of a listed tool (kept while a session holds the listing). */
const validators = new WeakMap<object, (value: unknown) => boolean>();

function structuredContentValid(ctx: GuardContext, schema: JsonSchemaType, result: unknown): boolean {
  const structured = (result as { structuredContent?: unknown } | null)?.structuredContent;
  if (structured === undefined) return true;
  let validate = validators.get(schema);
  if (!validate) {
    const compiled = ctx.validator.getValidator(schema);
    validate = (value) => compiled(value).valid;
    validators.set(schema, validate);
  }
  return validate(structured);
}
