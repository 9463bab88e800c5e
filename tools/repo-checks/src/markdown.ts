import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

/** A link in a Markdown file, as written. */
export interface MarkdownLink {
  /** The target as written: `docs/x.md`, `../y.md#part`, `#part`, `https://...`. */
  readonly target: string;
  /** 1-based line of the link. */
  readonly line: number;
}

/** A relative link whose file, or whose anchor in a Markdown file, does not exist. */
export interface BrokenLink {
  /** The file the link is in, relative to the root, with `/`. */
  readonly file: string;
  readonly line: number;
  readonly target: string;
  readonly problem: string;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * The lines of `markdown` with fenced code blocks blanked (their lines kept, so that line
 * numbers still hold); inline code spans are blanked too unless `keepInlineCode`.
 */
function proseLines(markdown: string, keepInlineCode = false): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const open = FENCE.exec(line)?.[1];
    if (fence === undefined) {
      if (open !== undefined) {
        fence = open;
        return '';
      }
      return keepInlineCode ? line : line.replace(/(`+)(?:(?!\1)[\s\S])*?\1/g, (code) => ' '.repeat(code.length));
    }
    if (open !== undefined && open.startsWith(fence[0] ?? '`') && open.length >= fence.length && line.trim() === open)
      fence = undefined;
    return '';
  });
}

const INLINE_LINK = /!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g;
const REFERENCE_DEFINITION = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/;
const HTML_LINK = /<(?:a|img)\b[^>]*?\b(?:href|src)\s*=\s*"([^"]*)"/gi;

/**
 * Every link of `markdown` outside code: inline links and images, reference definitions,
 * `<a href>` and `<img src>`.
 */
export function markdownLinks(markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  proseLines(markdown).forEach((text, index) => {
    const line = index + 1;
    const add = (raw: string | undefined) => {
      if (raw !== undefined) links.push({ target: raw.replace(/^<(.*)>$/, '$1'), line });
    };
    for (const match of text.matchAll(INLINE_LINK)) add(match[1]);
    for (const match of text.matchAll(HTML_LINK)) add(match[1]);
    add(REFERENCE_DEFINITION.exec(text)?.[1]);
  });
  return links;
}

/** GitHub's anchor for a heading's text: lower case, punctuation dropped, spaces to hyphens. */
export function headingSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link: its text
    .replace(/<[^>]+>/g, '') // HTML tags
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** The anchors GitHub gives the headings of `markdown` (a repeated one gets `-1`, `-2`, ...). */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown, true)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = headingSlug(heading);
    const times = seen.get(slug) ?? 0;
    seen.set(slug, times + 1);
    anchors.add(times === 0 ? slug : `${slug}-${times}`);
  }
  return anchors;
}

/** Whether a link leaves the repository (a scheme such as `https:` or `mailto:`, or `//host`). */
const isExternal = (target: string) => /^[a-z][a-z\d+.-]*:/i.test(target) || target.startsWith('//');

/**
 * The relative links of `files` (Markdown files, relative to `root`) that point at nothing:
 * no such file or directory, or, for a link into a Markdown file with `#anchor`, no heading
 * of that anchor. A link starting with `/` is taken from the root, as GitHub does.
 */
export function brokenLinks(root: string, files: readonly string[]): BrokenLink[] {
  const anchorsOf = new Map<string, Set<string>>();
  const anchors = (absolute: string) => {
    let found = anchorsOf.get(absolute);
    if (found === undefined) {
      found = headingAnchors(readFileSync(absolute, 'utf8'));
      anchorsOf.set(absolute, found);
    }
    return found;
  };
  const broken: BrokenLink[] = [];
  for (const file of files) {
    const source = join(root, file);
    for (const { target, line } of markdownLinks(readFileSync(source, 'utf8'))) {
      if (isExternal(target)) continue;
      const hash = target.indexOf('#');
      const pathPart = hash === -1 ? target : target.slice(0, hash);
      const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
      let path: string;
      try {
        path = decodeURIComponent(pathPart.split('?')[0] ?? '');
      } catch {
        broken.push({ file, line, target, problem: 'is not a valid URL path' });
        continue;
      }
      const absolute = path === '' ? source : path.startsWith('/') ? join(root, path) : join(dirname(source), path);
      if (!existsSync(absolute)) {
        broken.push({
          file,
          line,
          target,
          problem: `points at ${relative(root, absolute).split(sep).join('/')}, which does not exist`,
        });
        continue;
      }
      if (
        anchor !== undefined &&
        anchor !== '' &&
        absolute.endsWith('.md') &&
        statSync(absolute).isFile() &&
        !anchors(absolute).has(anchor.toLowerCase())
      ) {
        broken.push({
          file,
          line,
          target,
          problem: `has no heading '#${anchor}' in ${relative(root, absolute).split(sep).join('/') || file}`,
        });
      }
    }
  }
  return broken;
}

const SKIPPED = new Set(['node_modules', 'dist', 'coverage', '.git', '.turbo', '.broker', '.cluster', '.deploy']);

/** Every README.md of the repository (no dependencies, no build output) and every `docs/*.md`, relative with `/`. */
export function documentationFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIPPED.has(entry.name)) walk(join(dir, entry.name));
      } else if (entry.name === 'README.md') {
        found.push(relative(root, join(dir, entry.name)).split(sep).join('/'));
      }
    }
  };
  walk(root);
  const docs = join(root, 'docs');
  if (existsSync(docs)) {
    for (const entry of readdirSync(docs, { withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.md')) found.push(`docs/${entry.name}`);
    }
  }
  return [...new Set(found)].sort();
}

/**
 * The text of the first fenced code block under the heading whose text matches `heading`;
 * undefined when there is none.
 */
export function codeBlockUnder(markdown: string, heading: RegExp): string | undefined {
  const lines = markdown.split('\n');
  const at = lines.findIndex((line) => {
    const text = /^ {0,3}#{1,6}\s+(.*)$/.exec(line)?.[1];
    return text !== undefined && heading.test(text);
  });
  if (at === -1) return undefined;
  const block: string[] = [];
  let fence: string | undefined;
  for (const line of lines.slice(at + 1)) {
    const open = FENCE.exec(line)?.[1];
    if (fence === undefined) {
      if (/^ {0,3}#{1,6}\s/.test(line)) return undefined; // the next section, and no block
      if (open !== undefined) fence = open;
      continue;
    }
    if (open !== undefined && line.trim() === open) return block.join('\n');
    block.push(line);
  }
  return undefined;
}

/**
 * The paths a directory tree names, one entry a line: the entry's first word, under the
 * directory (a word ending in `/`) of the nearest line above it indented less. Lines
 * indented 8 spaces or more continue the description of the entry above and are skipped.
 *
 *     packages/             -> packages/
 *       transport/          -> packages/transport/
 *                           (a description)
 *     .ci/run               -> .ci/run
 */
export function treePaths(tree: string): string[] {
  const paths: string[] = [];
  const parents: { indent: number; path: string }[] = [];
  for (const line of tree.split('\n')) {
    const match = /^( *)(\S+)/.exec(line);
    if (match === null) continue;
    const indent = match[1]?.length ?? 0;
    const word = match[2] ?? '';
    if (indent >= 8) continue;
    while (parents.length > 0 && (parents.at(-1)?.indent ?? 0) >= indent) parents.pop();
    const path = `${parents.at(-1)?.path ?? ''}${word}`;
    paths.push(path);
    if (word.endsWith('/')) parents.push({ indent, path });
  }
  return paths;
}
