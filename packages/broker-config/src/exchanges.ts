import type { MessageName, MessagePayload } from './messages.js';
import { ExchangeName, QueueName, type RpcName } from './names.js';

/** The arguments of `exchange.declare` that decide whether two declarations are equivalent. */
export interface ExchangeOptions {
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly arguments: Readonly<Record<string, unknown>>;
}

export type ExchangeType = 'fanout' | 'direct' | 'topic';

export interface ExchangeDeclaration {
  readonly name: ExchangeName;
  readonly type: ExchangeType;
  /** How the exchange is created when it does not exist yet. */
  readonly options: ExchangeOptions;
  /**
   * When the exchange already exists with other options (say, declared durable by another
   * program), use it as it is (check it exists, never re-declare it) instead of failing
   * with `406 PRECONDITION_FAILED`.
   */
  readonly adoptExisting: boolean;
}

/**
 * As pika's `exchange_declare(exchange=..., exchange_type=...)` declares them in the
 * tutorials: not durable, not auto-delete, not internal, no arguments. An exchange holds no
 * messages, so not being durable loses none: after a broker restart the first program that
 * runs declares it again.
 */
const tutorialExchange = {
  durable: false,
  autoDelete: false,
  internal: false,
  arguments: {},
} as const satisfies ExchangeOptions;

export const exchanges = {
  logs: { name: ExchangeName.logs, type: 'fanout', options: tutorialExchange, adoptExisting: true },
  direct_logs: { name: ExchangeName.directLogs, type: 'direct', options: tutorialExchange, adoptExisting: true },
  topic_logs: { name: ExchangeName.topicLogs, type: 'topic', options: tutorialExchange, adoptExisting: true },
} as const satisfies Record<ExchangeName, ExchangeDeclaration>;

/**
 * What a routing key may be for an exchange's publications and bindings:
 * - `none`: the fanout exchange ignores it; the tutorial publishes with `''`;
 * - `word`: a direct exchange's key, matched as it is (a severity: `info`, `error`);
 * - `topic`: dot-separated words (`kern.critical`); bindings may use `*` (one word) and
 *   `#` (zero or more words).
 */
export type RoutingKeyRule = 'none' | 'word' | 'topic';

export interface ExchangePublicationDeclaration {
  readonly exchange: ExchangeName;
  readonly message: MessageName;
  readonly routingKey: RoutingKeyRule;
  /** The key used when none is given: the tutorial program's own default. */
  readonly defaultRoutingKey: string;
}

export interface ExchangeSubscriptionDeclaration {
  readonly exchange: ExchangeName;
  readonly message: MessageName;
  readonly routingKey: RoutingKeyRule;
  /** Deliveries a subscriber holds unacknowledged at once. */
  readonly prefetch: number;
}

/**
 * Publishing a log line to the exchanges of tutorials 3 to 5, with the `mandatory` flag and
 * a confirm: a line that no queue is bound for (no subscriber running) comes back and is
 * reported, where the tutorial program would lose it without a word.
 */
export const exchangePublications = {
  logs: { exchange: ExchangeName.logs, message: 'log', routingKey: 'none', defaultRoutingKey: '' },
  direct_logs: { exchange: ExchangeName.directLogs, message: 'log', routingKey: 'word', defaultRoutingKey: 'info' },
  topic_logs: {
    exchange: ExchangeName.topicLogs,
    message: 'log',
    routingKey: 'topic',
    defaultRoutingKey: 'anonymous.info',
  },
} as const satisfies Record<ExchangeName, ExchangePublicationDeclaration>;

/**
 * Subscribing to the exchanges of tutorials 3 to 5: each subscriber gets a queue of its own,
 * named by the broker, exclusive to its connection and deleted with it (see
 * `SUBSCRIBER_QUEUE_OPTIONS`), bound with its keys. There is no retry and no dead-letter
 * queue: such a queue lives only as long as its subscriber, so a line it cannot print is
 * logged and dropped (acked), never set aside where nobody would look.
 */
export const exchangeSubscriptions = {
  logs: { exchange: ExchangeName.logs, message: 'log', routingKey: 'none', prefetch: 10 },
  direct_logs: { exchange: ExchangeName.directLogs, message: 'log', routingKey: 'word', prefetch: 10 },
  topic_logs: { exchange: ExchangeName.topicLogs, message: 'log', routingKey: 'topic', prefetch: 10 },
} as const satisfies Record<ExchangeName, ExchangeSubscriptionDeclaration>;

/**
 * A subscriber's own queue, as pika's `queue_declare(queue='', exclusive=True)`: the broker
 * names it (`amq.gen-...`), only its connection may use it, and it is deleted when that
 * connection closes (or, auto-delete, once its consumer is cancelled). Not durable.
 */
export const SUBSCRIBER_QUEUE_OPTIONS = { durable: false, exclusive: true, autoDelete: true, arguments: {} } as const;

/** The longest routing or binding key AMQP allows (a short string), in bytes. */
const MAX_KEY_BYTES = 255;
const TOPIC_WORD = /^[^.*#]+$/;

/**
 * Why `key` cannot be a routing key (`binding: false`) or a binding key (`binding: true`)
 * under `rule`; undefined when it can.
 */
export function routingKeyProblem(rule: RoutingKeyRule, key: string, binding: boolean): string | undefined {
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `it is longer than ${MAX_KEY_BYTES} bytes`;
  switch (rule) {
    case 'none':
      return key === '' ? undefined : 'a fanout exchange takes no key';
    case 'word':
      return key === '' ? 'it is empty' : undefined;
    case 'topic': {
      if (key === '') return 'it is empty';
      const bad = key.split('.').find((word) => !(binding && (word === '*' || word === '#')) && !TOPIC_WORD.test(word));
      if (bad === undefined) return undefined;
      return binding
        ? `'${bad}' is not a word, '*' or '#' (a binding key is words separated by '.', e.g. 'kern.*' or '#.critical')`
        : `'${bad}' is not a word ` +
            `(a routing key is words separated by '.', e.g. 'kern.critical'; '*' and '#' are for bindings)`;
    }
  }
}

/**
 * Why each of `keys` cannot bind a subscriber's queue to exchange `name`, one line each
 * (none needed for a fanout exchange, at least one for the others); empty when they all can.
 */
export function bindingKeyProblems(name: ExchangeName, keys: readonly string[]): string[] {
  const { routingKey } = exchangeSubscriptions[name];
  if (routingKey === 'none') {
    return keys.length > 0
      ? [`'${name}' is a fanout exchange: every subscriber gets every message, so it takes no --key`]
      : [];
  }
  if (keys.length === 0) {
    const example = routingKey === 'word' ? '--key info --key error' : "--key 'kern.*' --key '*.critical'";
    return [`'${name}' needs at least one --key to bind with, e.g. ${example}`];
  }
  return keys.flatMap((key) => {
    const problem = routingKeyProblem(routingKey, key, true);
    return problem === undefined ? [] : [`--key '${key}' cannot bind to '${name}': ${problem}`];
  });
}

/** The largest `n` the Fibonacci server computes: fib(1000) has 209 digits, and takes microseconds. */
export const FIBONACCI_MAX_N = 1000;

export interface RpcDeclaration {
  /** Where requests go, through the default exchange. */
  readonly queue: QueueName;
  readonly request: MessageName;
  readonly reply: MessageName;
}

/**
 * Remote procedures (tutorial 6). A client publishes a request to `queue` with a
 * `correlation_id` and `reply_to` and waits for the reply with that `correlation_id`; the
 * server is the `rpc_queue` subscription.
 */
export const rpcCalls = {
  rpc_queue: { queue: QueueName.rpc, request: 'fibonacciRequest', reply: 'fibonacciReply' },
} as const satisfies Record<RpcName, RpcDeclaration>;

/** What an exchange publication takes: a payload of its message kind, checked at compile time. */
export type ExchangePublicationPayload<E extends ExchangeName> = MessagePayload<
  (typeof exchangePublications)[E]['message']
>;
/** What an exchange subscription delivers, once decoded and checked. */
export type ExchangeSubscriptionPayload<E extends ExchangeName> = MessagePayload<
  (typeof exchangeSubscriptions)[E]['message']
>;
/** What a remote procedure takes. */
export type RpcRequest<R extends RpcName> = MessagePayload<(typeof rpcCalls)[R]['request']>;
/** What a remote procedure answers. */
export type RpcReply<R extends RpcName> = MessagePayload<(typeof rpcCalls)[R]['reply']>;
