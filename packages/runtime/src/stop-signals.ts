import type { Logger } from './logger.js';

/** A repeated signal at least this long after the first forces the exit. */
const FORCE_AFTER_MS = 1000;

/**
 * Calls `stop` on the first SIGINT or SIGTERM. A repeat within a second is ignored: under
 * pnpm one CTRL+C reaches node twice at once (the terminal signals the whole process group
 * and pnpm forwards it too). A repeat later means "do not wait": the process exits at once
 * with 128 + the signal's number (what is unacked goes back to the queue).
 * @returns a function that stops listening (for a program that goes on once its work is done)
 */
export function onStopSignal(logger: Logger, stop: (signal: NodeJS.Signals) => void): () => void {
  let stoppingSince: number | undefined;
  const handle = (signal: NodeJS.Signals) => {
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince < FORCE_AFTER_MS) return;
      logger.warn({ signal }, 'second signal; exiting now');
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    }
    stoppingSince = Date.now();
    stop(signal);
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
  return () => {
    process.off('SIGINT', handle);
    process.off('SIGTERM', handle);
  };
}
