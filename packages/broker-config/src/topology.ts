import type { BrokerConfig, ConnectionConfig, PublicationConfig } from 'rascal';
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
const quorum: QueueOptions = { durable: true, exclusive: false, autoDelete: false, arguments: { 'x-queue-type': 'quorum' } };

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

export interface BrokerConfigOptions {
  /**
   * The broker's AMQP URL, vhost included (and the login, unless `credentials` gives it);
   * or, for a cluster, one URL per node, tried in this order: on a lost connection Rascal
   * moves to the next that answers. Never logged as is.
   */
  readonly url: string | readonly string[];
  /** The vhost named in the URL, for Rascal's bookkeeping. @default '/' */
  readonly vhost?: string;
  /** How each queue is treated at start. @default 'assert' for every queue */
  readonly queueModes?: Partial<Record<QueueName, QueueMode>>;
  /** Time allowed to open the TCP connection and finish the AMQP handshake. @default 5000 */
  readonly connectTimeoutMs?: number;
  /** AMQP heartbeat: a dead connection is noticed after about two of these. @default 10 */
  readonly heartbeatSeconds?: number;
  /** Time the broker has to confirm one publication. @default 10000 */
  readonly confirmTimeoutMs?: number;
  /** Unacknowledged deliveries a consumer holds at once. @default each subscription's own */
  readonly prefetch?: number;
  /** Time a subscription waits for deliveries in hand to be acked when it is cancelled. @default 10000 */
  readonly closeTimeoutMs?: number;
  /** Confirm channels, and so messages awaiting their confirm, at once. @default 10 */
  readonly confirmChannels?: number;
  /** Shown in the broker's connection list (`rabbitmqctl list_connections client_properties`). */
  readonly connectionName?: string;
  /**
   * TLS for an `amqps://` URL: whom to trust and who we are. The broker's certificate is
   * always verified (chain and host name); there is no option to turn that off.
   * @default Node's trust store, no client certificate
   */
  readonly tls?: TlsOptions;
  /**
   * The login, given to the client library directly rather than through the URL (which
   * then needs no password): any password works as it is, whatever its characters.
   * @default the user and password of the URL
   */
  readonly credentials?: SaslCredentials;
}

/** TLS settings of the connection (Node's `tls.connect` options of the same names). */
export interface TlsOptions {
  /** PEM certificates of the authorities that may sign the broker's certificate. @default Node's trust store */
  readonly ca?: string | Buffer;
  /** PEM client certificate (chain), for a broker that asks for one (mutual TLS). */
  readonly cert?: string | Buffer;
  /** PEM private key of `cert`. */
  readonly key?: string | Buffer;
  /**
   * The name the broker's certificate must carry (and SNI): for a broker reached by an
   * address its certificate does not name, e.g. an IP. @default the URL's host
   */
  readonly servername?: string;
}

/** A SASL mechanism and its response, as amqplib's `credentials.plain(user, password)` makes. */
export interface SaslCredentials {
  readonly mechanism: string;
  response(): Buffer;
}

type SocketOptions = NonNullable<ConnectionConfig['socketOptions']> & {
  noDelay?: boolean;
  rejectUnauthorized?: true;
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  servername?: string;
  credentials?: SaslCredentials;
};

/**
 * The socket options of every connection to the broker (amqplib passes them to
 * `net.connect` or `tls.connect`): Rascal's, and any other connection the apps open, so
 * that they all trust, and log in, alike.
 */
export function connectionSocketOptions(
  options: Pick<BrokerConfigOptions, 'connectTimeoutMs' | 'connectionName' | 'tls' | 'credentials'>,
): SocketOptions {
  const tls = options.tls ?? {};
  return {
    timeout: options.connectTimeoutMs ?? 5000,
    // Without TCP_NODELAY small frames (acks, confirms, basic.get) wait on Nagle's
    // algorithm and the peer's delayed ACK: up to 40 ms a round trip.
    noDelay: true,
    ...(options.connectionName === undefined ? {} : { clientProperties: { connection_name: options.connectionName } }),
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
    ...(tls.servername === undefined ? {} : { servername: tls.servername }),
    // Verify the broker's certificate, always: set here explicitly, so that not even
    // NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment turns it off.
    rejectUnauthorized: true,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  };
}

/** Rascal 21 also takes a confirm `timeout`, which @types/rascal 10 does not list. */
type RascalPublication = PublicationConfig & { timeout?: number };

/**
 * Builds the Rascal configuration of the contract for one broker. Pure: it reads no
 * environment and opens nothing; the apps pass their settings in.
 */
export function createBrokerConfig(options: BrokerConfigOptions): BrokerConfig {
  const vhost = options.vhost ?? '/';
  const connectTimeout = options.connectTimeoutMs ?? 5000;
  const socketOptions = connectionSocketOptions(options);

  const rascalQueues = Object.fromEntries(
    Object.values(queues).map((queue) => {
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

  const rascalPublications = Object.fromEntries(
    Object.entries(publications).map(([name, publication]): [string, RascalPublication] => [
      name,
      {
        vhost,
        queue: publication.queue,
        // Wait for the broker's confirm: a message counts as sent only once confirmed.
        confirm: true,
        timeout: options.confirmTimeoutMs ?? 10_000,
        options: {
          // Unroutable messages come back (basic.return) instead of vanishing.
          mandatory: true,
          persistent: true,
        },
      },
    ]),
  );

  const rascalSubscriptions = Object.fromEntries(
    Object.entries(subscriptions).map(([name, subscription]) => [
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
        // Every node in the order given (the apps shuffle it themselves when asked to).
        connectionStrategy: 'fixed',
        connections: (typeof options.url === 'string' ? [options.url] : options.url).map((url) => ({
          url,
          options: {
            heartbeat: options.heartbeatSeconds ?? 10,
            connection_timeout: connectTimeout,
          },
          socketOptions,
          // Reconnect after a lost connection: each node in turn at once, then, when none
          // answers, again after 1 s, doubling, at most 30 s between rounds.
          retry: { min: 1000, max: 30_000, factor: 2, strategy: 'exponential' },
        })),
        publicationChannelPools: {
          confirmPool: { max: options.confirmChannels ?? 10 },
        },
        queues: rascalQueues,
        publications: rascalPublications,
        subscriptions: rascalSubscriptions,
      },
    },
  };
}

/** What a publication takes: a payload of its message kind, checked at compile time. */
export type PublicationPayload<P extends PublicationName> = MessagePayload<(typeof publications)[P]['message']>;

/** What a subscription delivers, once decoded and checked. */
export type SubscriptionPayload<S extends SubscriptionName> = MessagePayload<(typeof subscriptions)[S]['message']>;
