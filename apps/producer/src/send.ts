import { randomUUID } from 'node:crypto';
import type { Broker } from '@hello-rabbit/broker-client';
import type { PublicationName, PublicationPayload } from '@hello-rabbit/broker-config';
import { publishConfirmed, type PublishOutcome } from './publish.js';

export interface SendReport {
  readonly total: number;
  readonly confirmed: number;
  readonly returned: number;
  readonly nacked: number;
  readonly failed: number;
  /** Messages never published because the run was interrupted. */
  readonly notAttempted: number;
  /** The first failure's reason, for the summary line. */
  readonly firstFailure: string | undefined;
}

export interface SendOptions {
  /** Messages awaiting their confirm at once. */
  readonly window: number;
  readonly confirmTimeoutMs: number;
  /** Stops publishing new messages; those in flight still settle. */
  readonly signal?: AbortSignal;
  readonly onOutcome?: (outcome: PublishOutcome, payload: string) => void;
}

/**
 * Publishes every payload, each with its own messageId, keeping at most `window` of them
 * unconfirmed, and counts how each one ended.
 */
export async function sendAll<P extends PublicationName>(
  broker: Broker,
  name: P,
  payloads: readonly PublicationPayload<P>[],
  options: SendOptions,
): Promise<SendReport> {
  const counts = { confirmed: 0, returned: 0, nacked: 0, failed: 0 };
  let firstFailure: string | undefined;
  let next = 0;
  let attempted = 0;

  const worker = async () => {
    while (next < payloads.length && options.signal?.aborted !== true) {
      const payload = payloads[next++] as PublicationPayload<P>;
      attempted++;
      const outcome = await publishConfirmed(broker, name, payload, {
        messageId: randomUUID(),
        timeoutMs: options.confirmTimeoutMs,
      });
      counts[outcome.status]++;
      if (outcome.status !== 'confirmed') firstFailure ??= outcome.reason;
      options.onOutcome?.(outcome, payload);
    }
  };

  const workers = Array.from({ length: Math.max(1, Math.min(options.window, payloads.length)) }, worker);
  await Promise.all(workers);
  return { total: payloads.length, ...counts, notAttempted: payloads.length - attempted, firstFailure };
}
