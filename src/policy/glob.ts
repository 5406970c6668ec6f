/**
 * A matcher for a glob where `*` stands for any run of characters (also none) and every other character for
 * itself. Matching walks both strings once with backtracking limited to the last `*`, so its cost is at most the
 * product of the two lengths: no pattern can make it explode the way a regular expression can.
 */
export function globMatcher(pattern: string): (value: string) => boolean {
  if (!pattern.includes('*')) return (value) => value === pattern;
  if (pattern === '*') return () => true;
  return (value) => {
    let p = 0;
    let v = 0;
    let star = -1;
    let resume = 0;
    while (v < value.length) {
      if (p < pattern.length && pattern[p] === '*') {
        star = p++;
        resume = v;
      } else if (p < pattern.length && pattern[p] === value[v]) {
        p++;
        v++;
      } else if (star >= 0) {
        p = star + 1;
        v = ++resume;
      } else {
        return false;
      }
    }
    while (p < pattern.length && pattern[p] === '*') p++;
    return p === pattern.length;
  };
}

/** Whether any of the globs matches; `undefined` (no list) matches everything. */
export function anyGlob(patterns: readonly string[] | undefined): (value: string) => boolean {
  if (patterns === undefined) return () => true;
  const matchers = patterns.map(globMatcher);
  return (value) => matchers.some((matches) => matches(value));
}
