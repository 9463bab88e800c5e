import type { Logger } from '@hello-rabbit/runtime';
import type { OpsSettings } from './load-env.js';
import type { ManagementApi } from './management-api.js';
import type { Output } from './output.js';

/** What every command is given: settings, the log, the management API, where to write. */
export interface OpsContext {
  readonly settings: OpsSettings;
  readonly logger: Logger;
  readonly api: ManagementApi;
  readonly output: Output;
  /** Aborted on SIGINT/SIGTERM: a command finishes the message in hand, then stops. */
  readonly signal: AbortSignal;
  readonly now: () => Date;
}
