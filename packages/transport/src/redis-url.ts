/**
 * The dedup store's errors at start: a Redis address that cannot be used.
 */
import { ExitCode, parseRedisUrl } from '@hello-rabbit/runtime';

/** A Redis address that cannot be used: fatal at start, one line, no password in it. */
export class DedupStoreError extends Error {
  override readonly name = 'DedupStoreError';
  readonly exitCode: ExitCode;

  constructor(
    readonly code: 'STORE_CONFIG' | 'STORE_AUTH' | 'STORE_UNREACHABLE',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.exitCode =
      code === 'STORE_CONFIG' ? ExitCode.config : code === 'STORE_AUTH' ? ExitCode.noPermission : ExitCode.unavailable;
  }
}

/**
 * A Redis URL, checked (see `parseRedisUrl` in the runtime).
 * @throws DedupStoreError (STORE_CONFIG) saying what is wrong, never quoting the URL.
 */
export function checkRedisUrl(url: string): ReturnType<typeof parseRedisUrl> {
  try {
    return parseRedisUrl(url);
  } catch (err) {
    // parseRedisUrl throws only to say what is wrong with the URL.
    throw new DedupStoreError('STORE_CONFIG', (err as Error).message, { cause: err });
  }
}
