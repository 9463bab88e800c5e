import type { Logger } from './logger.js';

/**
 * Settles with the promise, or rejects with `onTimeout()` after `ms`. The timer does not
 * hold the process open.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(onTimeout());
    }, ms);
    timer.unref();
  });
  return Promise.race([promise, deadline]).finally(() => {
    clearTimeout(timer);
  });
}

/**
 * Time a connection (or a server) has to close once the work is done. A connection that
 * dies while closing must not hold the exit: past this, it is abandoned.
 */
export const CLOSE_DEADLINE_MS = 5000;

/**
 * Waits for `closing` for at most `ms`. Never rejects: a failure, or a close that does not
 * finish in time, is logged as a warning (`could not close <what>`), and the caller goes on
 * to exit.
 */
export async function closeWithin(
  what: string,
  closing: Promise<unknown>,
  logger: Logger,
  ms: number = CLOSE_DEADLINE_MS,
): Promise<void> {
  await withDeadline(closing, ms, () => new Error(`${what} did not close within ${ms} ms`)).then(
    () => undefined,
    (err: unknown) => {
      logger.warn({ err }, `could not close ${what}`);
    },
  );
}
