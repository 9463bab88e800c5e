// No source line over 120 characters: Prettier (printWidth 120) breaks code, but not a
// string, a template, a test's title or a comment; this says where one is left.

/** The widest a source line may be, as `.prettierrc.json` and `.editorconfig` say. */
export const MAX_LINE_LENGTH = 120;

/** Each line of `text` longer than `max`, as `path:line (length)`. */
export function longLines(path: string, text: string, max = MAX_LINE_LENGTH): string[] {
  return text.split('\n').flatMap((line, i) => (line.length > max ? [`${path}:${i + 1} (${line.length})`] : []));
}
