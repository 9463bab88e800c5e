import { randomUUID } from 'node:crypto';
import { publishConfirmed, type Broker, type PublishOutcome } from '@hello-rabbit/broker-client';
import type { EncodedMessage, PublicationName } from '@hello-rabbit/broker-config';

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
  /** Called as each message settles, with its index in `messages`. */
  readonly onOutcome?: (outcome: PublishOutcome, index: number) => void;
}

/**
 * Publishes every message (already checked and encoded by the contract), each with its own
 * messageId, keeping at most `window` of them unconfirmed, and counts how each one ended.
 */
export async function sendAll(
  broker: Broker,
  publication: PublicationName,
  messages: readonly EncodedMessage[],
  options: SendOptions,
): Promise<SendReport> {
  const counts = { confirmed: 0, returned: 0, nacked: 0, failed: 0 };
  let firstFailure: string | undefined;
  let next = 0;

  const worker = async () => {
    while (next < messages.length && options.signal?.aborted !== true) {
      const index = next++;
      const { content, contentType } = messages[index] as EncodedMessage;
      const outcome = await publishConfirmed(broker, publication, content, {
        messageId: randomUUID(),
        contentType,
        appId: 'producer',
        timeoutMs: options.confirmTimeoutMs,
      });
      counts[outcome.status]++;
      if (outcome.status !== 'confirmed') firstFailure ??= outcome.reason;
      options.onOutcome?.(outcome, index);
    }
  };

  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.window, messages.length)) }, worker));
  return { total: messages.length, ...counts, notAttempted: messages.length - next, firstFailure };
}
