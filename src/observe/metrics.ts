/** A label value in the text exposition format: backslash, double quote and line feed escaped. */
const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** A monotonically increasing count per combination of label values. */
export class Counter<L extends string> {
  readonly #series = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
  ) {}

  inc(labels: Record<L, string>, by = 1): void {
    const key = this.#key(labels);
    this.#series.set(key, (this.#series.get(key) ?? 0) + by);
  }

  /** The value of one series, 0 before its first increment. */
  value(labels: Record<L, string>): number {
    return this.#series.get(this.#key(labels)) ?? 0;
  }

  #key(labels: Record<L, string>): string {
    return this.labelNames.map((label) => `${label}="${escapeLabel(labels[label])}"`).join(',');
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [key, value] of this.#series) lines.push(`${this.name}{${key}} ${value}`);
    return lines.join('\n');
  }
}

/**
 * The counters of one gateway process, exposed in the Prometheus text format at `/admin/v1/metrics`. Each replica
 * counts its own; a scraper sums them.
 */
export class Metrics {
  /** Tool calls by what the quota gate did: `admitted`, `refused`, or, with the store unreachable, `store_down_admitted` / `store_down_refused`. */
  readonly quotaDecisions = new Counter('portcullis_quota_decisions_total', 'Tool calls by quota outcome.', ['tenant', 'outcome']);
  /** Admissions that took a limit past its soft threshold. */
  readonly quotaSoftLimit = new Counter('portcullis_quota_soft_limit_total', 'Admissions that crossed a limit\'s soft threshold.', ['tenant', 'limit']);
  /** Findings of the guardrails by the action taken (`block`, `redact`, `flag`); `limit.bytes`/`limit.depth` for messages over a cap. */
  readonly guardFindings = new Counter('portcullis_guardrail_findings_total', 'Guardrail findings by type and action.', ['tenant', 'direction', 'type', 'action']);
  /** Tool definitions a listing hid or flagged: `changed_hidden`, `changed_flagged`, `poisoned_hidden`, `poisoned_flagged`. */
  readonly toolReviews = new Counter('portcullis_tool_reviews_total', 'Tool definitions hidden or flagged by pinning and poisoning checks.', ['tenant', 'outcome']);
  /** Requests the authorization server's abuse limits refused with 429. */
  readonly rateLimited = new Counter('portcullis_rate_limited_total', 'Requests refused with 429 by an abuse limit.', ['endpoint', 'by']);

  render(): string {
    return `${[this.quotaDecisions, this.quotaSoftLimit, this.guardFindings, this.toolReviews, this.rateLimited].map((counter) => counter.render()).join('\n')}\n`;
  }
}
