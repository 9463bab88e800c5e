// The retry policy's defaults, apart from the policy (./retry-policy.ts) so that a command
// line can print them (`consumer --help`) without loading the transport.

/** Attempts, retries and crashes together, before a message is dead-lettered. */
export const DEFAULT_MAX_ATTEMPTS = 5;

/** The backoff before each retry, in ms, one per wait queue; the last one repeats. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = Object.freeze([1000, 5000, 30_000]);
