import { ExitCode } from '@hello-rabbit/runtime';

/** What went wrong with the broker, in a word; each maps to an exit code (see BrokerError). */
export type BrokerErrorCode =
  | 'BROKER_UNREACHABLE'
  | 'CONNECT_TIMEOUT'
  | 'ACCESS_REFUSED'
  | 'VHOST_NOT_FOUND'
  | 'HANDSHAKE_FAILED'
  | 'TLS_ERROR'
  | 'PERMISSION_DENIED'
  | 'TOPOLOGY_MISMATCH'
  | 'BROKER_ERROR';

const exitCodes: Record<BrokerErrorCode, ExitCode> = {
  BROKER_UNREACHABLE: ExitCode.unavailable,
  CONNECT_TIMEOUT: ExitCode.unavailable,
  HANDSHAKE_FAILED: ExitCode.unavailable,
  ACCESS_REFUSED: ExitCode.noPermission,
  VHOST_NOT_FOUND: ExitCode.noPermission,
  // Authentication failed, one way or the other: the broker's certificate is not trusted
  // (or does not name the host), or the broker refused ours. Retrying will not help.
  TLS_ERROR: ExitCode.noPermission,
  // Logged in, but the user may not do what the app needs (configure, write or read).
  PERMISSION_DENIED: ExitCode.noPermission,
  TOPOLOGY_MISMATCH: ExitCode.config,
  BROKER_ERROR: ExitCode.software,
};

/** The broker could not be used. Its message is one line, safe to print: no password. */
export class BrokerError extends Error {
  override readonly name = 'BrokerError';
  readonly exitCode: ExitCode;

  constructor(
    readonly code: BrokerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.exitCode = exitCodes[code];
  }
}
