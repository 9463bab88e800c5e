import {
  exchanges as exchangeDeclarations,
  queues as queueDeclarations,
  type QueueDeclaration,
} from '@hello-rabbit/broker-config';

type Table = Readonly<Record<string, unknown>>;

/** A queue as the contract declares it: what `queue.declare` would ask of the broker. */
export interface ExpectedQueue {
  readonly name: string;
  /** `x-queue-type`, `classic` when the contract names none. */
  readonly type: string;
  readonly durable: boolean;
  readonly exclusive: boolean;
  readonly autoDelete: boolean;
  /** Every other argument (`x-queue-type` is `type`). */
  readonly arguments: Table;
  /** The apps use an existing queue of another shape as it is (see `QueueDeclaration`). */
  readonly adoptExisting: boolean;
  /** Arguments an adopted queue must still have as declared (see `QueueDeclaration`). @default none */
  readonly requiredArguments?: readonly string[] | undefined;
}

export interface ExpectedExchange {
  readonly name: string;
  readonly type: string;
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly arguments: Table;
}

export interface ExpectedBinding {
  readonly source: string;
  readonly destination: string;
  readonly destinationType: 'queue' | 'exchange';
  readonly routingKey: string;
  readonly arguments: Table;
}

/** An exchange the apps declare when they use it (tutorials 3 to 5), not at start. */
export interface OnDemandExchange extends ExpectedExchange {
  /** The apps use an existing exchange of the same type but other options as it is. */
  readonly adoptExisting: boolean;
}

export interface ExpectedTopology {
  readonly queues: readonly ExpectedQueue[];
  readonly exchanges: readonly ExpectedExchange[];
  readonly bindings: readonly ExpectedBinding[];
  /**
   * Exchanges of the contract that exist only once an app has used them (or the exported
   * definitions were imported): compared when they exist, never missing, never extra.
   * @default none
   */
  readonly onDemandExchanges?: readonly OnDemandExchange[];
}

/**
 * The topology the contract declares, read from its own data: the queues the apps declare
 * at start (`queues`, which the transport hands to the broker as they are, in every vhost),
 * and the exchanges of tutorials 3 to 5, which the apps declare when they use them. The
 * contract declares no exchange and no binding at start: should it ever, they belong here.
 */
export function contractTopology(): ExpectedTopology {
  const declared: readonly QueueDeclaration[] = Object.values(queueDeclarations);
  return {
    queues: declared.map(expectedQueue),
    exchanges: [],
    bindings: [],
    onDemandExchanges: Object.values(exchangeDeclarations).map((exchange) => ({
      name: exchange.name,
      type: exchange.type,
      durable: exchange.options.durable,
      autoDelete: exchange.options.autoDelete,
      internal: exchange.options.internal,
      arguments: { ...exchange.options.arguments },
      adoptExisting: exchange.adoptExisting,
    })),
  };
}

/** A queue of the contract as `queue.declare` asks for it: its type out of its arguments. */
function expectedQueue(queue: QueueDeclaration): ExpectedQueue {
  const { 'x-queue-type': type, ...args } = queue.options.arguments;
  return {
    name: queue.name,
    type: typeof type === 'string' ? type : 'classic',
    durable: queue.options.durable,
    exclusive: queue.options.exclusive,
    autoDelete: queue.options.autoDelete,
    arguments: args,
    adoptExisting: queue.adoptExisting,
    requiredArguments: queue.requiredArguments,
  };
}
