/** Where a command writes: people's lines (or JSON) on stdout, one-line notices on stderr. */
export interface Output {
  /** A line of the command's result, on stdout. */
  line(text: string): void;
  /** A notice for the person at the terminal (a warning, progress), on stderr. */
  notice(text: string): void;
}

export function processOutput(program: string): Output {
  return {
    line: (text) => process.stdout.write(`${text}\n`),
    notice: (text) => process.stderr.write(`${program}: ${text}\n`),
  };
}

/** A value in a human line: `none` for nothing, strings quoted, the rest as JSON. */
export function show(value: unknown): string {
  if (value === undefined || value === null) return 'none';
  return JSON.stringify(value);
}

/** `1 message`, `2 messages`. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
