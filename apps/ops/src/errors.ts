import { ExitCode } from '@hello-rabbit/runtime';

/** What an operation could not do, for a reason an operator can act on. */
export type OpsErrorCode =
  /** The queue, vhost object or message named does not exist: exit 66 (EX_NOINPUT). */
  | 'NOT_FOUND'
  /** Doing it could lose messages (a delivery limit on the queue): refused, exit 1. */
  | 'UNSAFE';

const exitCodes: Record<OpsErrorCode, ExitCode> = {
  NOT_FOUND: ExitCode.noInput,
  UNSAFE: ExitCode.failure,
};

/**
 * An error of the ops tool. Its message is one line, safe to print: no password. It says its
 * own exit code, so runtime's `describeFatal` reports it as it is.
 */
export class OpsError extends Error {
  override readonly name = 'OpsError';
  readonly exitCode: ExitCode;

  constructor(
    readonly code: OpsErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.exitCode = exitCodes[code];
  }
}
