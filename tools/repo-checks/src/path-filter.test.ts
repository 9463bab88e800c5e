import { describe, expect, it } from 'vitest';
import { globToRegExp, matchesPathFilters } from './path-filter.js';

// Examples from GitHub's "Filter pattern cheat sheet" for `paths`.
describe('the paths filter matcher', () => {
  it('matches every file under a directory with dir/**', () => {
    expect(matchesPathFilters('docs/hello.md', ['docs/**'])).toBe(true);
    expect(matchesPathFilters('docs/mona/octocat.txt', ['docs/**'])).toBe(true);
    expect(matchesPathFilters('documents/x.md', ['docs/**'])).toBe(false);
  });

  it('does not let * cross a directory boundary', () => {
    expect(matchesPathFilters('app.js', ['*.js'])).toBe(true);
    expect(matchesPathFilters('js/index.js', ['*.js'])).toBe(false);
  });

  it('matches a file at the root and in any directory with **/name', () => {
    expect(matchesPathFilters('README.md', ['**/README.md'])).toBe(true);
    expect(matchesPathFilters('server/docs/README.md', ['**/README.md'])).toBe(true);
    expect(matchesPathFilters('README.mdx', ['**/README.md'])).toBe(false);
  });

  it('treats a plain file name as that file at the root only', () => {
    expect(matchesPathFilters('package.json', ['package.json'])).toBe(true);
    expect(matchesPathFilters('apps/producer/package.json', ['package.json'])).toBe(false);
  });

  it('takes dots literally', () => {
    expect(matchesPathFilters('turbo-json', ['turbo.json'])).toBe(false);
  });

  it('excludes a file matched by a later negative pattern, and re-includes it after', () => {
    expect(matchesPathFilters('docs/private/x.md', ['docs/**', '!docs/private/**'])).toBe(false);
    expect(matchesPathFilters('docs/private/x.md', ['docs/**', '!docs/private/**', 'docs/private/x.md'])).toBe(true);
  });

  it('refuses patterns whose GitHub meaning it does not implement', () => {
    expect(() => globToRegExp('docs/?.md')).toThrow(/does not support/);
    expect(() => globToRegExp('[ab].md')).toThrow(/does not support/);
  });
});
