const UNIT_MS = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
} as const;

/** The longest duration accepted: ten years, far past any retention of dead letters. */
const MAX_MS = 3650 * UNIT_MS.d;

/**
 * Parses a duration such as `7d`, `12h`, `90m`, `45s`, `2w` or `1d12h` into milliseconds.
 * @returns the milliseconds, or why the text is not a duration.
 */
export function parseDuration(text: string): { ok: true; ms: number } | { ok: false; reason: string } {
  const trimmed = text.trim().toLowerCase();
  if (!/^(\d+[smhdw])+$/.test(trimmed)) {
    return { ok: false, reason: 'it must be a duration such as 7d, 12h, 90m, 45s, 2w or 1d12h' };
  }
  let ms = 0;
  for (const [, amount = '0', unit = 's'] of trimmed.matchAll(/(\d+)([smhdw])/g)) {
    ms += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  if (ms <= 0) return { ok: false, reason: 'it must be longer than zero' };
  if (ms > MAX_MS) return { ok: false, reason: 'it must be at most 3650d' };
  return { ok: true, ms };
}
