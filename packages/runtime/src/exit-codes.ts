/**
 * Process exit codes, from BSD's sysexits.h so that supervisors and scripts can tell a
 * bad invocation from a broker that is away.
 */
export const ExitCode = {
  ok: 0,
  /** Some messages were not confirmed by the broker (returned, nacked, timed out). */
  failure: 1,
  /** A bad flag or argument. */
  usage: 64,
  /** What the command was to read (a queue, a message) does not exist. */
  noInput: 66,
  /** The broker could not be reached, or did not answer in time. */
  unavailable: 69,
  /** An unexpected internal error. */
  software: 70,
  /**
   * The broker refused the credentials, the vhost or an operation (permissions), or TLS
   * authentication failed: the broker's certificate is not trusted, or it refused ours.
   */
  noPermission: 77,
  /** A bad setting in the environment. */
  config: 78,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
