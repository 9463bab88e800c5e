import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits until `check` holds: runs it, then again every `intervalMs` while it does not.
 * A check that throws (or rejects) fails the wait at once with that error.
 *
 * @param check what must come true; may be async (a broker or HTTP query).
 * @param timeoutMs how long to keep trying. @default 30000
 * @param what what is awaited, for the error, e.g. `'two dead letters'`. @default 'the condition'
 * @param intervalMs the pause between two checks. @default 50
 * @throws `timed out after <s> s waiting for <what>` when it still does not hold after `timeoutMs`.
 */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  what = 'the condition',
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}
