/**
 * What the startup scenario reads about a finished or a running child process: GNU time's
 * one line (`-f '%e %U %S %M'`), and Linux's /proc/<pid>/stat and /proc/<pid>/status.
 */

/** The format the startup scenario gives `/usr/bin/time -f`: wall, user and system seconds, max RSS in KiB. */
export const TIME_FORMAT = '%e %U %S %M';

export interface TimeFigures {
  readonly wallSeconds: number;
  readonly userSeconds: number;
  readonly sysSeconds: number;
  readonly maxRssBytes: number;
}

/**
 * Parses what `/usr/bin/time -f '%e %U %S %M' -o <file>` wrote: GNU time puts a line
 * "Command exited with non-zero status N" (or "Command terminated by signal N") before the
 * figures when the program failed, so the figures are the last line of four numbers.
 * `undefined` when there is no such line.
 */
export function parseTimeOutput(text: string): TimeFigures | undefined {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .reverse();
  for (const line of lines) {
    const match = /^(\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+)$/.exec(line);
    if (match === null) continue;
    const [, wall = '', user = '', sys = '', rss = ''] = match;
    return {
      wallSeconds: Number(wall),
      userSeconds: Number(user),
      sysSeconds: Number(sys),
      maxRssBytes: Number(rss) * 1024,
    };
  }
  return undefined;
}

/**
 * User and system CPU of a process in clock ticks, from /proc/<pid>/stat: fields 14 and 15,
 * counted after the command name, which is in parentheses and may hold spaces or ')'.
 */
export function parseProcStat(text: string): { readonly userTicks: number; readonly sysTicks: number } | undefined {
  const end = text.lastIndexOf(')');
  if (end < 0) return undefined;
  // After ") ": field 3 (state) is the first; utime and stime are fields 14 and 15.
  const fields = text
    .slice(end + 2)
    .trim()
    .split(/\s+/);
  const userTicks = Number(fields[11]);
  const sysTicks = Number(fields[12]);
  if (!Number.isFinite(userTicks) || !Number.isFinite(sysTicks) || fields.length < 13) return undefined;
  return { userTicks, sysTicks };
}

/** The peak resident set size so far (VmHWM) from /proc/<pid>/status, in bytes. */
export function parsePeakRss(status: string): number | undefined {
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
}
