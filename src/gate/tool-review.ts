import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { definitionHash, inspectToolDefinition } from '../../guardrails/index.js';
import type { Logger } from '../../oauth/types.js';
import type { TenantGuard } from '../guard/compile.js';
import type { ToolPins } from '../guard/pins.js';
import type { Metrics } from '../observe/metrics.js';

export interface ReviewContext {
  tenant: string;
  guard: TenantGuard;
  pins: ToolPins;
  logger: Logger;
  metrics: Metrics;
  now: () => number;
}

/** A tool a client may see, with the definition policy reads: the pinned one, even while a changed one is flagged through. */
export interface ReviewedTool {
  tool: Tool;
  pinned: Tool;
}

/** Poisoning findings by definition hash: a definition is inspected once per process, not per listing. */
const poisoning = new Map<string, string[]>();
const MAX_REMEMBERED = 10_000;
/** Findings below this confidence (a quoted attack in documentation, a lone `.env`) do not make a definition poisoned. */
const POISONING_CONFIDENCE = 0.5;

function poisonedTypes(tool: Tool, hash: string): string[] {
  let types = poisoning.get(hash);
  if (!types) {
    types = [...new Set(inspectToolDefinition(tool).filter((finding) => finding.confidence >= POISONING_CONFIDENCE).map((finding) => finding.type))];
    if (poisoning.size >= MAX_REMEMBERED) poisoning.clear();
    poisoning.set(hash, types);
  }
  return types;
}

/**
 * Tool-definition pinning and poisoning checks on one upstream's listing (docs/guardrails.md). A definition that
 * differs from the pinned one, or that the poisoning detector flags and no admin approved, is hidden or passed
 * flagged as the tenant configured; hidden tools are unknown to calls too.
 */
export async function reviewTools(ctx: ReviewContext, upstream: string, tools: readonly Tool[]): Promise<ReviewedTool[]> {
  const hashed = await Promise.all(tools.map(async (definition) => ({ definition, hash: await definitionHash(definition) })));
  const statuses = await ctx.pins.review(ctx.tenant, upstream, hashed, ctx.now());
  const { onChange, onPoisoned } = ctx.guard.config.toolDefinitions;
  const visible: ReviewedTool[] = [];
  for (const { definition, hash } of hashed) {
    const status = statuses.get(definition.name)!;
    const where = { tenant: ctx.tenant, upstream, tool: definition.name, hash };
    if (status.state === 'changed') {
      ctx.metrics.toolReviews.inc({ tenant: ctx.tenant, outcome: onChange === 'hide' ? 'changed_hidden' : 'changed_flagged' });
      ctx.logger.warn({ ...where, pinnedHash: status.pin.hash }, onChange === 'hide' ? 'a tool definition changed since it was pinned; hidden until an admin approves it' : 'a tool definition changed since it was pinned; passed flagged (onChange: flag)');
      if (onChange === 'hide') continue;
    }
    const approved = status.state === 'pinned' && status.pin.approved === true;
    const types = approved ? [] : poisonedTypes(definition, hash);
    if (types.length > 0) {
      ctx.metrics.toolReviews.inc({ tenant: ctx.tenant, outcome: onPoisoned === 'hide' ? 'poisoned_hidden' : 'poisoned_flagged' });
      ctx.logger.warn({ ...where, findings: types }, onPoisoned === 'hide' ? 'a tool definition looks poisoned; hidden until an admin approves it' : 'a tool definition looks poisoned; passed flagged (onPoisoned: flag)');
      if (onPoisoned === 'hide') continue;
    }
    visible.push({ tool: definition, pinned: status.pin.definition });
  }
  return visible;
}
