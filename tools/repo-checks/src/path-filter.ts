/**
 * GitHub Actions' `paths` filter, as the docs' "Filter pattern cheat sheet" describes it:
 * `*` matches any characters except `/`, `**` matches any characters including `/`, and
 * `**\/` also matches no directory at all (`**\/README.md` matches `README.md`).
 *
 * GitHub gives `?`, `+`, `[` and `]` meanings of their own; rather than guess them, a pattern
 * using them is rejected, so a check never passes on a pattern it misread.
 */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern.charAt(i);
    if (char === '*' && pattern.charAt(i + 1) === '*') {
      if (pattern.charAt(i + 2) === '/') {
        source += '(?:.*/)?';
        i += 2;
      } else {
        source += '.*';
        i += 1;
      }
    } else if (char === '*') {
      source += '[^/]*';
    } else if ('?+[]'.includes(char)) {
      throw new Error(`path pattern '${pattern}' uses '${char}', which this matcher does not support`);
    } else {
      source += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}

/**
 * Whether a changed file passes a `paths` filter. Patterns apply in order: a file matching a
 * pattern is included, one then matching a later `!pattern` is excluded again (and a later
 * positive pattern can include it once more), as GitHub evaluates them.
 */
export function matchesPathFilters(path: string, patterns: readonly string[]): boolean {
  let included = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    if (globToRegExp(negated ? pattern.slice(1) : pattern).test(path)) {
      included = !negated;
    }
  }
  return included;
}
