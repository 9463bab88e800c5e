import { BrokerError } from '@hello-rabbit/transport';
import {
  openQueueBrowser,
  QueueBrowseError,
  type CopyOutcome,
  type CopyProperties,
  type QueueMessage,
  type ScanResult,
  type Verdict,
} from '@hello-rabbit/transport/operations';
import type { OpsContext } from './context.js';
import { deliveryLimitOf, needsPolicies, type LimitContext } from './delivery-limit.js';
import { OpsError } from './errors.js';
import type { ApiQueue } from './management-api.js';

/** How the tool shows itself in the broker's connection list. */
export const CONNECTION_NAME = 'ops';

/** A dead-letter queue opened for one command. */
export interface OpenDeadLetterQueue {
  readonly queue: string;
  /** Visits the messages in the queue now, in order; see `QueueBrowser.scan`. */
  scan(visit: (message: QueueMessage, position: number) => Verdict | Promise<Verdict>): Promise<ScanResult>;
  /** Publishes a confirmed copy to `target` on the same connection; see `QueueBrowser.publishCopy`. */
  publishCopy(target: string, content: Buffer, properties: CopyProperties, timeoutMs: number): Promise<CopyOutcome>;
}

/**
 * Opens `queue` for a command and closes everything after it: connects (which checks the
 * credentials and the vhost) as the apps connect (a plain connection on the first node of
 * AMQP_HOSTS that answers, nothing declared: an operator's tool must not create the queues
 * it looks at), checks through the management API that the queue exists and that browsing
 * it cannot lose messages, then runs `work`.
 * @throws OpsError NOT_FOUND when the queue does not exist, UNSAFE when a delivery limit applies.
 */
export async function withDeadLetterQueue<T>(
  context: OpsContext,
  queue: string,
  work: (open: OpenDeadLetterQueue) => Promise<T>,
): Promise<T> {
  const { settings, logger } = context;
  const vhost = settings.amqp.vhost;
  const browser = await openQueueBrowser(
    settings.amqp,
    {
      connectTimeoutMs: settings.connectTimeoutMs,
      connectionName: CONNECTION_NAME,
      heartbeatSeconds: settings.heartbeatSeconds,
    },
    logger,
  );
  try {
    const found = await assertSafeToBrowse(context, queue);
    return await work({
      queue,
      scan: (visit) =>
        browser.scan(queue, visit, {
          // A classic queue puts a message given back in its place; a quorum queue needs the whole pass.
          readThrough: found.type !== 'classic',
          signal: context.signal,
          onSlowReturn: () => {
            context.output.notice(
              `the messages given back to '${queue}' were slow to show up (another consumer?): ` +
                'their order may not be kept',
            );
          },
        }),
      publishCopy: (target, content, properties, timeoutMs) =>
        browser.publishCopy(target, content, properties, timeoutMs),
    });
  } catch (err) {
    if (!(err instanceof QueueBrowseError)) throw err;
    // The client's own words for a lost connection or channel are not one of ours.
    switch (err.failure) {
      case 'queue-not-found':
        throw new OpsError('NOT_FOUND', `queue '${queue}' does not exist in vhost '${vhost}' (deleted meanwhile?)`, {
          cause: err,
        });
      case 'ack-timeout':
        throw new BrokerError(
          'BROKER_ERROR',
          `the broker closed the channel: the run held messages of '${queue}' longer than its consumer_timeout; ` +
            'they are back in the queue; use --limit for shorter runs',
          { cause: err },
        );
      case 'connection-lost':
        throw new BrokerError(
          'BROKER_UNREACHABLE',
          `lost the connection to the broker while working on '${queue}' in vhost '${vhost}' (${err.message}); ` +
            'the messages not yet done are back in the queue',
          { cause: err },
        );
    }
  } finally {
    await browser.close();
  }
}

/**
 * A quorum queue counts every message a browse gives back as a delivery; past a delivery
 * limit the broker drops it. With a limit on the queue, the tool refuses to browse.
 */
async function assertSafeToBrowse(context: OpsContext, queue: string): Promise<ApiQueue> {
  const { api, settings, output } = context;
  const vhost = settings.amqp.vhost;
  const found = await api.queue(vhost, queue);
  if (found === undefined) throw new OpsError('NOT_FOUND', `queue '${queue}' does not exist in vhost '${vhost}'`);
  const { rabbitmq_version: version } = await api.overview();
  let limitContext: LimitContext = { version };
  if (needsPolicies(found)) {
    try {
      const [policies, operatorPolicies] = await Promise.all([api.policies(vhost), api.operatorPolicies(vhost)]);
      limitContext = { version, policies, operatorPolicies };
    } catch (err) {
      if (!(err instanceof BrokerError) || err.code !== 'ACCESS_REFUSED') throw err;
      throw new OpsError(
        'UNSAFE',
        `cannot tell whether a delivery limit applies to '${queue}': its statistics are not in yet ` +
          `and user '${settings.management.user}' may not read policies; try again in a few seconds`,
        { cause: err },
      );
    }
  }
  const limit = deliveryLimitOf(found, limitContext);
  if (limit !== undefined) {
    throw new OpsError(
      'UNSAFE',
      `refusing to browse '${queue}': it has a delivery limit of ${limit.limit} (${limit.source}), and every message ` +
        `the tool looks at and leaves counts as a delivery, so the broker would drop messages past the limit; lift ` +
        `the limit for the dead-letter queues (e.g. a policy with "delivery-limit": -1 on RabbitMQ 4) and try again`,
    );
  }
  if (found.consumers !== undefined && found.consumers > 0) {
    output.notice(`'${queue}' has ${found.consumers} consumer(s): they may take messages while this runs`);
  }
  return found;
}
