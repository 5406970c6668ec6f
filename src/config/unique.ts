import type { z } from 'zod';

/**
 * Refuses items whose key an earlier item of the list already has, each at its own path (`<list>.<index>.<field>`,
 * or `<index>.<field>` when the refinement is the list's own), with the message `duplicate <what> "<key>"`.
 */
export function refineUnique<T>(ctx: z.RefinementCtx, items: readonly T[], at: { list?: string; field: string; what: string }, keyOf: (item: T) => string): void {
  const seen = new Set<string>();
  items.forEach((item, index) => {
    const key = keyOf(item);
    if (seen.has(key)) ctx.addIssue({ code: 'custom', path: at.list === undefined ? [index, at.field] : [at.list, index, at.field], message: `duplicate ${at.what} "${key}"` });
    seen.add(key);
  });
}
