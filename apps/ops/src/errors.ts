import { describeFatal, ExitCode } from '@hello-rabbit/runtime';

/** What an operation could not do, for a reason an operator can act on. */
export type OpsErrorCode =
  /** The queue, vhost object or message named does not exist: exit 66 (EX_NOINPUT). */
  | 'NOT_FOUND'
  /** Doing it could lose messages (a delivery limit on the queue): refused, exit 1. */
  | 'UNSAFE';

/** Exit code 66 (`EX_NOINPUT` in sysexits.h): what the command was to read does not exist. */
export const EXIT_NOT_FOUND = 66;

const exitCodes: Record<OpsErrorCode, number> = {
  NOT_FOUND: EXIT_NOT_FOUND,
  UNSAFE: ExitCode.failure,
};

/** An error of the ops tool. Its message is one line, safe to print: no password. */
export class OpsError extends Error {
  override readonly name = 'OpsError';
  readonly exitCode: number;

  constructor(
    readonly code: OpsErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.exitCode = exitCodes[code];
  }
}

/** The lines printed and the exit code for an error that ended the program. */
export function describeOpsFatal(error: unknown): { readonly lines: readonly string[]; readonly exitCode: number } {
  if (error instanceof OpsError) return { lines: [error.message], exitCode: error.exitCode };
  return describeFatal(error);
}
