import type { ConfirmChannel, Message, Options } from 'amqplib';

/** How one publish ended. Only `confirmed` means the broker has the message. */
export type SendOutcome =
  | { readonly status: 'confirmed' }
  | { readonly status: 'returned' | 'nacked' | 'failed'; readonly reason: string };

export interface ConfirmedSender {
  /**
   * Publishes one message to `queue` through the default exchange, persistent and
   * mandatory, and resolves once its fate is known: confirmed, returned (no such queue),
   * nacked, or failed (channel lost, no confirm within `timeoutMs`). Never rejects. One
   * message at a time: the caller awaits each before the next.
   */
  send(queue: string, content: Buffer, options: Options.Publish, timeoutMs: number): Promise<SendOutcome>;
}

/**
 * A confirmed publisher that keeps one message in flight: the tool publishes at a limited
 * rate and acks each dead letter only once its copy is confirmed, so there is nothing to
 * gain from a window and a return always belongs to the message in flight.
 */
export function createConfirmedSender(channel: ConfirmChannel): ConfirmedSender {
  let inFlight: { returned?: string } | undefined;
  let closed: string | undefined;
  channel.on('return', (message: Message) => {
    // basic.return comes before the basic.ack of the same message.
    if (inFlight !== undefined) {
      inFlight.returned = `returned by the broker: no queue '${message.fields.routingKey}' (mandatory)`;
    }
  });
  channel.on('close', () => {
    closed = 'the channel closed';
  });
  // The close that follows carries the consequence; the error is for the log of the caller.
  channel.on('error', () => undefined);

  return {
    send: (queue, content, options, timeoutMs) => {
      if (inFlight !== undefined) throw new Error('one message at a time');
      if (closed !== undefined) return Promise.resolve({ status: 'failed', reason: closed });
      const current: { returned?: string } = {};
      inFlight = current;
      return new Promise<SendOutcome>((resolve) => {
        let settled = false;
        const settle = (outcome: SendOutcome) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          inFlight = undefined;
          resolve(outcome);
        };
        const timer = setTimeout(() => {
          settle({ status: 'failed', reason: `no confirm from the broker within ${timeoutMs} ms` });
        }, timeoutMs);
        try {
          channel.publish('', queue, content, { ...options, persistent: true, mandatory: true }, (err: unknown) => {
            if (err === null || err === undefined) {
              settle(current.returned === undefined ? { status: 'confirmed' } : { status: 'returned', reason: current.returned });
            } else {
              const message = err instanceof Error ? err.message : 'the broker did not confirm';
              settle(
                /nack/i.test(message)
                  ? { status: 'nacked', reason: 'rejected by the broker (basic.nack)' }
                  : { status: 'failed', reason: message },
              );
            }
          });
        } catch (err) {
          // amqplib throws when the channel is already closing.
          settle({ status: 'failed', reason: err instanceof Error ? err.message : String(err) });
        }
      });
    },
  };
}
