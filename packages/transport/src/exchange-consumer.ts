import {
  bindingKeyProblems,
  exchangeSubscriptions,
  type ExchangeName,
  type ExchangeSubscriptionPayload,
} from '@hello-rabbit/broker-config';
import { ConfigError, type Logger, type TopologyMode } from '@hello-rabbit/runtime';
import { runConsumer, type Admitted, type Delivery, type RunningConsumer } from './consumer/engine.js';
import { ownQueueSource } from './consumer/own-queue-source.js';
import type { Broker } from './rascal-adapter.js';
import type { ConsumerMetrics } from './start-consumer.js';

/** What a handler learns about the log line it handles. */
export interface ExchangeDeliveryContext {
  readonly exchange: ExchangeName;
  /** The key it was published with: the severity, or `<facility>.<severity>`. */
  readonly routingKey: string;
  readonly messageId: string | undefined;
}

/** A plain function: whatever it does, the line is acked (see `startExchangeConsumer`). */
export type ExchangeHandler<E extends ExchangeName> = (
  payload: ExchangeSubscriptionPayload<E>,
  context: ExchangeDeliveryContext,
) => void | Promise<void>;

/** How `startExchangeConsumer` subscribes. */
export interface ExchangeConsumerOptions {
  /** Where its diagnostics go (required). */
  readonly logger: Logger;
  /**
   * The binding keys: none for the fanout `logs`; one or more severities for `direct_logs`;
   * one or more patterns for `topic_logs` (`*` one word, `#` zero or more). Required (may be empty for `logs`).
   */
  readonly bindingKeys: readonly string[];
  /** Deliveries held unacknowledged at once. @default the subscription's own (10) */
  readonly prefetch?: number | undefined;
  /** `check`: the exchange is only checked to exist, never declared (AMQP_TOPOLOGY=check). @default 'declare' */
  readonly topology?: TopologyMode;
  /** Time the deliveries in hand have to finish on stop. @default 10000 */
  readonly closeTimeoutMs?: number;
  /**
   * Where deliveries, acks and timings are counted, labelled with the exchange's name (not
   * in the in-flight gauge). @default none
   */
  readonly metrics?:
    | Pick<ConsumerMetrics, 'messageDelivered' | 'messageAcked' | 'observeHandlerDuration' | 'observeEndToEndLatency'>
    | undefined;
}

/** No retries: every delivery of a subscriber's own queue is its first attempt. */
const FIRST_ATTEMPT: Admitted = { attempt: 1 };
const routingKeyOf = (delivery: Delivery) => delivery.message.fields.routingKey;

/** A running exchange subscriber. */
export interface RunningExchangeConsumer extends RunningConsumer {
  /** The server-named queue it consumes now (`amq.gen-...`): a new one after each reconnect. */
  readonly queue: string | undefined;
}

/**
 * Checks binding keys against an exchange subscription's rule.
 * @throws ConfigError (usage) naming each bad key.
 */
function checkBindingKeys(name: ExchangeName, keys: readonly string[]): void {
  const problems = bindingKeyProblems(name, keys);
  if (problems.length > 0) throw new ConfigError(problems.join('; '), problems, 'usage');
}

/**
 * Subscribes to an exchange of tutorials 3 to 5 as the tutorial's `receive_logs*` does: a
 * queue of its own, named by the broker, exclusive to the connection and deleted with it,
 * bound to the exchange with each key; then it runs `handler` for every line.
 *
 * The exchange is declared first (as the tutorial declares it, or adopted as it is).
 * Deliveries are acked once handled (the tutorial uses auto-ack; acking after the handler
 * means a line in hand when the consumer dies is not lost while the queue lives). The queue
 * lives only as long as the subscriber, so there is no retry and no dead-letter queue: a line
 * the contract refuses, or whose handler fails, is logged and acked (dropped).
 *
 * The queue dies with its connection. After a lost connection (Rascal reconnects) or a
 * cancelled consumer, the subscriber declares a new queue, binds it again and consumes it:
 * lines published while it was away are not delivered, exactly as for the tutorial's
 * programs (publish/subscribe has no memory).
 *
 * @throws ConfigError for keys that break the exchange's rule; BrokerError when the first
 *   subscription fails (no permission, an exchange of another type).
 */
export async function startExchangeConsumer<E extends ExchangeName>(
  broker: Broker,
  name: E,
  handler: ExchangeHandler<E>,
  options: ExchangeConsumerOptions,
): Promise<RunningExchangeConsumer> {
  const { logger, metrics } = options;
  const declaration = exchangeSubscriptions[name];
  checkBindingKeys(name, options.bindingKeys);
  const source = ownQueueSource(broker, name, {
    logger,
    // The fanout exchange ignores the key: bound with '' as the tutorial does.
    keys: declaration.routingKey === 'none' ? [''] : [...new Set(options.bindingKeys)],
    prefetch: options.prefetch ?? declaration.prefetch,
    topology: options.topology,
    closeTimeoutMs: options.closeTimeoutMs ?? 10_000,
  });
  const running = await runConsumer<Delivery, Admitted, ExchangeDeliveryContext, ExchangeSubscriptionPayload<E>>(
    source,
    {
      label: name,
      message: declaration.message,
      metrics,
      countsInFlight: false,
      handler,
      admit: () => FIRST_ATTEMPT,
      screen: () => false,
      invalid: (delivery, reason) => {
        const { messageId } = delivery.message.properties;
        logger.error(
          { exchange: name, routingKey: routingKeyOf(delivery), messageId, reason },
          'invalid message dropped (a subscriber queue has no dead-letter queue)',
        );
        delivery.ack();
      },
      duplicate: () => false,
      context: (delivery) => ({
        exchange: name,
        routingKey: routingKeyOf(delivery),
        messageId: delivery.message.properties.messageId,
      }),
      handled: () => undefined,
      failed: (delivery, err) => {
        logger.error(
          { err, exchange: name, routingKey: routingKeyOf(delivery), messageId: delivery.message.properties.messageId },
          'handler failed; the message is dropped',
        );
        delivery.ack();
      },
      unexpected: (delivery, err) => {
        logger.error(
          { err, exchange: name, messageId: delivery.message.properties.messageId },
          'unexpected error; the message is dropped',
        );
        delivery.ack();
      },
      close: () => Promise.resolve(),
    },
  );
  return {
    get queue() {
      return source.queue;
    },
    stop: () => running.stop(),
  };
}
