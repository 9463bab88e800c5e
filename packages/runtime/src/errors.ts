import { ExitCode } from './exit-codes.js';

/** A bad setting or flag: fatal at start, reported as one line per problem. */
export class ConfigError extends Error {
  readonly code: 'CONFIG' | 'USAGE';
  override readonly name = 'ConfigError';
  readonly exitCode: ExitCode;

  constructor(
    message: string,
    readonly problems: readonly string[] = [message],
    kind: 'config' | 'usage' = 'config',
  ) {
    super(message);
    this.code = kind === 'config' ? 'CONFIG' : 'USAGE';
    this.exitCode = kind === 'config' ? ExitCode.config : ExitCode.usage;
  }
}

/**
 * An error that knows how the program should end: its message is one line, safe to print
 * (no password), and `exitCode` says which kind of failure it was. The transport's
 * `BrokerError` is one.
 */
export interface FatalError extends Error {
  readonly exitCode: ExitCode;
  /** One line per problem, printed instead of the message (a ConfigError's bad settings). */
  readonly problems?: readonly string[];
}

const EXIT_CODES: ReadonlySet<number> = new Set(Object.values(ExitCode));

/** Whether `error` says its own exit code (see FatalError). */
export function isFatalError(error: unknown): error is FatalError {
  return (
    error instanceof Error &&
    typeof (error as { exitCode?: unknown }).exitCode === 'number' &&
    EXIT_CODES.has((error as FatalError).exitCode)
  );
}
