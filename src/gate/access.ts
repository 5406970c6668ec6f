import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import type { Logger } from '../../oauth/types.js';
import type { ToolPins } from '../guard/pins.js';
import type { Metrics } from '../observe/metrics.js';
import type { Caller, Decision, Target } from '../policy/engine.js';
import type { Store } from '../store/store.js';
import type { Tenant } from '../tenancy/resources.js';
import { guardContent, type GuardTarget } from './guard.js';
import { admitToolCall } from './quota.js';
import { reviewTools, type ReviewedTool } from './tool-review.js';

/** The runtime's fetch, called as a function of its own (Workers refuse a detached `fetch`). */
const callFetch: typeof fetch = (input, init) => fetch(input, init);

/**
 * The gates of one MCP session (../shared/DESIGN.md): policy decisions about its caller, whose scopes can grow within
 * the session (step-up), quotas, guardrails both ways, and the review of tool definitions.
 */
export interface Access {
  /** A decision for a call (with arguments) or for listing (without). */
  decide(authInfo: AuthInfo | undefined, target: Target, args?: Record<string, unknown>): Decision;
  /** The quota gate of a tool call the policy allowed: resolves with what ends its leases, or throws the quota error. */
  admitToolCall(upstream: string, tool: string): Promise<() => Promise<void>>;
  /** Guard in or out: the message as it may pass (redacted, or as it was), or the guardrail's JSON-RPC error. */
  guard<T>(target: GuardTarget, value: T): Promise<T>;
  /** The tools of one upstream's listing a client may see (pinning and poisoning checks). */
  reviewTools(upstream: string, tools: readonly Tool[]): Promise<ReviewedTool[]>;
}

export interface AccessOptions {
  /** The session's tenant as it is now: an admin can change its policy while the session lives. */
  tenant: () => Tenant;
  sub: string;
  clientId: string;
  /** The groups of a user, for rules that name groups. */
  groupsOf: (sub: string) => readonly string[];
  store: Store;
  now: () => number;
  logger: Logger;
  metrics: Metrics;
  pins: ToolPins;
  validator: jsonSchemaValidator;
}

/**
 * The policy gate of the pipeline in ../shared/DESIGN.md for one session. Scopes come from the token of each request,
 * since a client that stepped up continues its session with the new token; subject and client are the session's.
 * Refusals are logged with the rule and reason that made them (the audit trail will carry them too).
 */
export function sessionAccess(options: AccessOptions): Access {
  const groups = options.groupsOf(options.sub);
  return {
    decide(authInfo, target, args) {
      const caller: Caller = { sub: options.sub, groups, clientId: options.clientId, scopes: authInfo?.scopes ?? [] };
      const tenant = options.tenant();
      const decision = tenant.policy.decide(caller, target, args);
      if (decision.effect !== 'allow' && args !== undefined) {
        options.logger.info({ tenant: tenant.config.id, sub: caller.sub, client: caller.clientId, target, decision }, 'policy refused a request');
      }
      return decision;
    },
    admitToolCall(upstream, tool) {
      const tenant = options.tenant();
      return admitToolCall(
        { tenant: tenant.config.id, quotas: tenant.quotas, store: options.store, now: options.now, logger: options.logger, metrics: options.metrics },
        { clientId: options.clientId, sub: options.sub, upstream, tool },
      );
    },
    guard(target, value) {
      const tenant = options.tenant();
      return guardContent({ tenant: tenant.config.id, guard: tenant.guard, logger: options.logger, metrics: options.metrics, validator: options.validator, fetch: callFetch }, target, value);
    },
    reviewTools(upstream, tools) {
      const tenant = options.tenant();
      return reviewTools({ tenant: tenant.config.id, guard: tenant.guard, pins: options.pins, logger: options.logger, metrics: options.metrics, now: options.now }, upstream, tools);
    },
  };
}
