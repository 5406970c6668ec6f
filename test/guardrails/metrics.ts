/** Precision / recall bookkeeping for the corpus tests. */

export interface Row {
  type: string;
  tp: number;
  fp: number;
  fn: number;
  /** False positives counting matches at any confidence (not only at the operating point). */
  fpAny: number;
}

export class Tally {
  private readonly rows = new Map<string, Row>();
  readonly misses: string[] = [];

  constructor(types: readonly string[]) {
    for (const t of types) this.rows.set(t, { type: t, tp: 0, fp: 0, fn: 0, fpAny: 0 });
  }

  /** One sample: the types it is labeled with, and the types found at the operating point / at any confidence. */
  add(note: string, labels: ReadonlySet<string>, found: ReadonlySet<string>, foundAny: ReadonlySet<string>): void {
    for (const row of this.rows.values()) {
      const want = labels.has(row.type);
      const got = found.has(row.type);
      if (want && got) row.tp++;
      else if (want) {
        row.fn++;
        this.misses.push(`FN ${row.type}: ${note}`);
      } else if (got) {
        row.fp++;
        this.misses.push(`FP ${row.type}: ${note}`);
      }
      if (!want && foundAny.has(row.type)) row.fpAny++;
    }
  }

  get(type: string): Row {
    const row = this.rows.get(type);
    if (row === undefined) throw new Error(`no row ${type}`);
    return row;
  }

  static precision(r: Row): number {
    return r.tp + r.fp === 0 ? 1 : r.tp / (r.tp + r.fp);
  }

  static recall(r: Row): number {
    return r.tp + r.fn === 0 ? 1 : r.tp / (r.tp + r.fn);
  }

  table(title: string): string {
    const lines = [title, 'type                        TP  FP  FN  precision  recall  (FP at any confidence)'];
    for (const r of this.rows.values()) {
      lines.push(
        `${r.type.padEnd(26)} ${String(r.tp).padStart(3)} ${String(r.fp).padStart(3)} ${String(r.fn).padStart(3)}  ` +
          `${Tally.precision(r).toFixed(3).padStart(9)}  ${Tally.recall(r).toFixed(3).padStart(6)}  ${r.fpAny}`,
      );
    }
    return lines.join('\n');
  }
}
