import type { BrokerConfig } from 'rascal';
import type { MessageName, MessagePayload } from './messages.js';
import { QueueName, type PublicationName, type SubscriptionName } from './names.js';

/** The arguments of `queue.declare` that decide whether two declarations are equivalent. */
export interface QueueOptions {
  readonly durable: boolean;
  readonly exclusive: boolean;
  readonly autoDelete: boolean;
  readonly arguments: Readonly<Record<string, unknown>>;
}

export interface QueueDeclaration {
  readonly name: QueueName;
  /** How the queue is created when it does not exist yet. */
  readonly options: QueueOptions;
  /**
   * When the queue already exists with other options, use it as it is (check it exists,
   * never re-declare it) instead of failing with `406 PRECONDITION_FAILED`.
   */
  readonly adoptExisting: boolean;
  /**
   * Arguments an adopted queue must still have as declared, because without them it does
   * not do its job: a retry queue that dead-letters elsewhere never brings its messages
   * back. Checked where the arguments can be read (the management API). @default none
   */
  readonly requiredArguments?: readonly string[];
}

export interface PublicationDeclaration {
  /** Published through the default exchange, routing key = queue name. */
  readonly queue: QueueName;
  readonly message: MessageName;
}

export interface SubscriptionDeclaration {
  readonly queue: QueueName;
  readonly message: MessageName;
  /**
   * Where the consumer publishes, with a confirm, the messages it cannot accept or that
   * failed every attempt, before it acks them. The consumer does this itself rather than
   * through the queue's `x-dead-letter-exchange`, so that it also works on an adopted queue
   * whose arguments are not ours to change (such as the tutorials' `hello`).
   */
  readonly deadLetterQueue: QueueName;
  /**
   * The wait queues of retries, one per backoff step: a failed message waits in step N's
   * queue for its TTL, then the broker dead-letters it back to `queue`. Empty: a failure
   * goes straight to the dead-letter queue.
   */
  readonly retryQueues: readonly QueueName[];
  /** Deliveries a consumer holds unacknowledged at once, unless told otherwise. */
  readonly prefetch: number;
}

/** A durable quorum queue: replicated on a cluster, survives restarts, counts redeliveries. */
const quorum: QueueOptions = {
  durable: true,
  exclusive: false,
  autoDelete: false,
  arguments: { 'x-queue-type': 'quorum' },
};

/**
 * A retry wait queue of `target`. Nothing consumes it: each message carries its own
 * `expiration` (the backoff delay of its step, set by the consumer, all messages of one
 * step alike so none waits behind a longer one) and, when it expires, the broker
 * dead-letters it through the default exchange back to `target`, adding an `x-death`
 * record that counts the attempt. `at-least-once` dead-lettering (RabbitMQ 3.10+, quorum
 * queues) keeps the message until `target` has confirmed it; it requires
 * `x-overflow: reject-publish`.
 */
function retryQueue(name: QueueName, target: QueueName): QueueDeclaration {
  return {
    name,
    options: {
      ...quorum,
      arguments: {
        'x-queue-type': 'quorum',
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': target,
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      },
    },
    adoptExisting: true,
    requiredArguments: ['x-dead-letter-exchange', 'x-dead-letter-routing-key'],
  };
}

export const queues = {
  /**
   * Declared exactly as pika's `queue_declare(queue='hello')` in the original tutorial:
   * a classic queue, not durable, not exclusive, not auto-delete, no arguments. The current
   * official tutorials declare it as a durable quorum queue instead; either is adopted as
   * it is when it exists, so every tutorial program can share it with ours.
   */
  hello: {
    name: QueueName.hello,
    options: { durable: false, exclusive: false, autoDelete: false, arguments: {} },
    adoptExisting: true,
  },
  /**
   * Dead letters of `hello`: durable and quorum, so a message set aside survives a broker
   * restart and, on a cluster, the loss of a minority of nodes. Nothing consumes it
   * automatically; an operator inspects it.
   */
  'hello.dlq': { name: QueueName.helloDeadLetters, options: quorum, adoptExisting: true },
  /**
   * Tutorial 2's work queue: durable, created as a quorum queue (replicated, and it counts
   * redeliveries in `x-delivery-count`). The tutorials declare it as a durable classic
   * queue; an existing one of any shape is used as it is.
   */
  task_queue: { name: QueueName.task, options: quorum, adoptExisting: true },
  'task_queue.dlq': { name: QueueName.taskDeadLetters, options: quorum, adoptExisting: true },
  'task_queue.retry.1': retryQueue(QueueName.taskRetry1, QueueName.task),
  'task_queue.retry.2': retryQueue(QueueName.taskRetry2, QueueName.task),
  'task_queue.retry.3': retryQueue(QueueName.taskRetry3, QueueName.task),
  /**
   * Tutorial 6's request queue, declared exactly as pika's `queue_declare(queue='rpc_queue')`:
   * classic, not durable, no arguments (a request is worth nothing once its client has
   * given up, so nothing here needs to survive a restart). Adopted as it is when it exists.
   */
  rpc_queue: {
    name: QueueName.rpc,
    options: { durable: false, exclusive: false, autoDelete: false, arguments: {} },
    adoptExisting: true,
  },
  /** Requests the server cannot accept (`n` not a whole number up to 1000, no `reply_to`). */
  'rpc_queue.dlq': { name: QueueName.rpcDeadLetters, options: quorum, adoptExisting: true },
} as const satisfies Record<QueueName, QueueDeclaration>;

export const publications = {
  hello: { queue: QueueName.hello, message: 'hello' },
  task_queue: { queue: QueueName.task, message: 'task' },
} as const satisfies Record<PublicationName, PublicationDeclaration>;

export const subscriptions = {
  hello: {
    queue: QueueName.hello,
    message: 'hello',
    deadLetterQueue: QueueName.helloDeadLetters,
    retryQueues: [],
    prefetch: 10,
  },
  /** Fair dispatch: one task at a time per worker, as tutorial 2's basic_qos(prefetch_count=1). */
  task_queue: {
    queue: QueueName.task,
    message: 'task',
    deadLetterQueue: QueueName.taskDeadLetters,
    retryQueues: [QueueName.taskRetry1, QueueName.taskRetry2, QueueName.taskRetry3],
    prefetch: 1,
  },
  /**
   * Tutorial 6's server, a consumer like any other: one request at a time (the tutorial's
   * basic_qos(prefetch_count=1)), acked once its reply is confirmed. No retries: a request
   * that fails is dead-lettered at once (its client has a timeout; a late answer is useless).
   */
  rpc_queue: {
    queue: QueueName.rpc,
    message: 'fibonacciRequest',
    deadLetterQueue: QueueName.rpcDeadLetters,
    retryQueues: [],
    prefetch: 1,
  },
} as const satisfies Record<SubscriptionName, SubscriptionDeclaration>;

/**
 * How the broker-facing side treats a queue at start:
 * - `assert`: declare it with the contract's options (creates it when missing);
 * - `check`: only check that it exists (an adopted queue of another shape).
 */
export type QueueMode = 'assert' | 'check';

/**
 * What a command uses of the contract: the publications it publishes to and the
 * subscriptions it consumes. It declares (or checks) only their queues.
 */
export interface TopologyUse {
  /** Publications it publishes to: their queues. @default none */
  readonly publications?: readonly PublicationName[];
  /** Subscriptions it consumes: their queues, retry queues and dead-letter queues. @default none */
  readonly subscriptions?: readonly SubscriptionName[];
}

/**
 * The queues a command uses, in the contract's order: a publication's queue; a
 * subscription's queue, its retry wait queues and its dead-letter queue. A Hello World send
 * uses `hello` alone; the worker `task_queue`, its retry queues and `task_queue.dlq`.
 */
export function queuesUsedBy(use: TopologyUse): QueueDeclaration[] {
  const names = new Set<QueueName>();
  for (const name of use.publications ?? []) names.add(publications[name].queue);
  for (const name of use.subscriptions ?? []) {
    const subscription: SubscriptionDeclaration = subscriptions[name];
    names.add(subscription.queue);
    for (const retry of subscription.retryQueues) names.add(retry);
    names.add(subscription.deadLetterQueue);
  }
  return Object.values(queues).filter((queue) => names.has(queue.name));
}

export interface TopologyOptions {
  /** The vhost the topology lives in. @default '/' */
  readonly vhost?: string;
  /** Only what this command uses (see `queuesUsedBy`). @default every queue and subscription of the contract */
  readonly use?: TopologyUse | undefined;
  /** How each queue is treated at start. @default 'assert' for every queue */
  readonly queueModes?: Partial<Record<QueueName, QueueMode>>;
  /** Unacknowledged deliveries a consumer holds at once. @default each subscription's own */
  readonly prefetch?: number | undefined;
  /** Time a subscription waits for deliveries in hand to be acked when it is cancelled. @default 10000 */
  readonly closeTimeoutMs?: number | undefined;
}

/**
 * The contract's queues and subscriptions as Rascal declares and consumes them, for one
 * vhost. Pure: it reads no environment, opens nothing and names no broker; the transport
 * adds the connections. Publishing does not go through Rascal's publications (the
 * transport's pipelined publisher keeps many messages in flight on one confirm channel),
 * so none are declared.
 */
export function rascalTopology(options: TopologyOptions = {}): BrokerConfig {
  const vhost = options.vhost ?? '/';

  const declared = options.use === undefined ? Object.values(queues) : queuesUsedBy(options.use);
  const consumed = new Set<string>(
    options.use === undefined ? Object.keys(subscriptions) : (options.use.subscriptions ?? []),
  );

  const rascalQueues = Object.fromEntries(
    declared.map((queue) => {
      const mode = options.queueModes?.[queue.name] ?? 'assert';
      return [
        queue.name,
        {
          assert: mode === 'assert',
          check: mode === 'check',
          options: { ...queue.options, arguments: { ...queue.options.arguments } },
        },
      ];
    }),
  );

  const rascalSubscriptions = Object.fromEntries(
    Object.entries(subscriptions)
      .filter(([name]) => consumed.has(name))
      .map(([name, subscription]) => [
        name,
        {
          vhost,
          queue: subscription.queue,
          prefetch: options.prefetch ?? subscription.prefetch,
          // Rascal would parse text/plain and application/json bodies itself; the contract's
          // codec decodes (with size limits first), so Rascal hands over the raw bytes.
          contentType: 'application/octet-stream',
          // Manual acks: a message leaves the queue only once the consumer has handled it.
          options: { noAck: false },
          closeTimeout: options.closeTimeoutMs ?? 10_000,
        },
      ]),
  );

  return {
    vhosts: {
      [vhost]: {
        queues: rascalQueues,
        subscriptions: rascalSubscriptions,
      },
    },
  };
}

/** What a publication takes: a payload of its message kind, checked at compile time. */
export type PublicationPayload<P extends PublicationName> = MessagePayload<(typeof publications)[P]['message']>;

/** What a subscription delivers, once decoded and checked. */
export type SubscriptionPayload<S extends SubscriptionName> = MessagePayload<(typeof subscriptions)[S]['message']>;
