import { parseArgs } from 'node:util';
import type { Config } from '../config/schema.js';
import type { Caller, Target, TargetKind } from '../policy/engine.js';
import { compilePolicy } from '../tenancy/resources.js';

export const POLICY_USAGE = `Usage:
  portcullis policy test --config FILE --tenant ID --user SUB --client ID [--scopes "mcp ..."] [--groups a,b]
                         (--tool NAME [--annotations JSON] | --prompt NAME | --resource URI) [--upstream ID] [--args JSON]
    prints the decision of the tenant's policy on that call (or, without --args, on listing it) and the rule that made it.
    A local user's groups come from the configuration (SUB local:<username>); --groups gives them for anyone else.
`;

/** Thrown for a command line that cannot be understood; the caller prints the usage. */
export class UsageError extends Error {}

/** `portcullis policy test`: one decision of a tenant's policy, without a running gateway. */
export function policyTest(argv: string[], config: Config): string {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      tenant: { type: 'string' },
      user: { type: 'string' },
      client: { type: 'string' },
      scopes: { type: 'string' },
      groups: { type: 'string' },
      upstream: { type: 'string' },
      tool: { type: 'string' },
      prompt: { type: 'string' },
      resource: { type: 'string' },
      annotations: { type: 'string' },
      args: { type: 'string' },
    },
  });
  const tenant = config.tenants.find((candidate) => candidate.id === values.tenant);
  if (!tenant) throw new UsageError(values.tenant === undefined ? '--tenant is required' : `no tenant "${values.tenant}" in the configuration`);
  if (values.user === undefined || values.client === undefined) throw new UsageError('--user and --client are required');
  const targets = (['tool', 'prompt', 'resource'] as const).filter((kind) => values[kind] !== undefined);
  if (targets.length !== 1) throw new UsageError('give exactly one of --tool, --prompt, --resource');
  const kind: TargetKind = targets[0]!;
  const upstream = values.upstream ?? (tenant.upstreams.length === 1 ? tenant.upstreams[0]!.id : undefined);
  if (upstream === undefined) throw new UsageError(`--upstream is required: the tenant has ${tenant.upstreams.length} upstreams`);

  const local = values.user.startsWith('local:') ? config.users.find((user) => user.username === values.user!.slice('local:'.length)) : undefined;
  const caller: Caller = {
    sub: values.user,
    groups: values.groups !== undefined ? values.groups.split(',').filter(Boolean) : (local?.groups ?? []),
    clientId: values.client,
    scopes: (values.scopes ?? tenant.baseScope).split(' ').filter(Boolean),
  };
  const target: Target = { kind, upstream, name: values[kind]!, annotations: json(values.annotations, '--annotations') as Target['annotations'] };
  const args = json(values.args, '--args') as Record<string, unknown> | undefined;
  const decision = compilePolicy(config, tenant).decide(caller, target, args);
  const effect = decision.effect === 'step-up' ? `step-up (needs ${decision.missingScopes.join(' ')})` : decision.effect;
  return `${effect}\nrule: ${decision.rule ?? '(the default)'}\nreason: ${decision.reason}\n${args === undefined ? 'as a listing: conditions on arguments are not evaluated\n' : ''}`;
}

function json(text: string | undefined, option: string): object | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
  } catch {
    // Reported below.
  }
  throw new UsageError(`${option} must be a JSON object`);
}
