import { rascalTopology, exchanges as exchangeDeclarations, queues as queueDeclarations, type QueueDeclaration } from '@hello-rabbit/broker-config';
import type { BindingConfig, BrokerConfig, ExchangeConfig, QueueConfig } from 'rascal';

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
  readonly requiredArguments?: readonly string[];
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

/** amqplib's shorthand options of `assertQueue` and the arguments they stand for. */
const QUEUE_SHORTHANDS = {
  messageTtl: 'x-message-ttl',
  expires: 'x-expires',
  deadLetterExchange: 'x-dead-letter-exchange',
  deadLetterRoutingKey: 'x-dead-letter-routing-key',
  maxLength: 'x-max-length',
  maxPriority: 'x-max-priority',
  overflow: 'x-overflow',
  queueMode: 'x-queue-mode',
} as const;

/**
 * The topology the contract declares in `vhost`, read from the Rascal configuration that
 * `rascalTopology` builds (what the transport hands to Rascal), so that exchanges and
 * bindings the contract adds later are checked without changing this tool; and the
 * exchanges of tutorials 3 to 5, which the apps declare when they use them.
 */
export function contractTopology(vhost: string): ExpectedTopology {
  const config = rascalTopology({ vhost });
  const adoptable = new Set(Object.values(queueDeclarations).filter((q) => q.adoptExisting).map((q) => q.name as string));
  const fromRascal = topologyFromRascal(config, vhost, adoptable);
  const declared = new Map<string, QueueDeclaration>(Object.values(queueDeclarations).map((q): [string, QueueDeclaration] => [q.name, q]));
  return {
    ...fromRascal,
    queues: fromRascal.queues.map((queue) => {
      const required = declared.get(queue.name)?.requiredArguments;
      return required === undefined ? queue : { ...queue, requiredArguments: required };
    }),
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

/**
 * Reads queues, exchanges and bindings of one vhost of a Rascal configuration, with
 * Rascal's and amqplib's defaults applied as they would be on declare: queues and
 * exchanges durable, exchanges of type `topic`, bindings to a queue with key `#`.
 */
export function topologyFromRascal(config: BrokerConfig, vhost: string, adoptable: ReadonlySet<string> = new Set()): ExpectedTopology {
  const vhostConfig = config.vhosts?.[vhost];
  if (vhostConfig === undefined) return { queues: [], exchanges: [], bindings: [] };

  const queues = keyed<QueueConfig>(vhostConfig.queues).map(([name, queue]): ExpectedQueue => {
    const options = (queue.options ?? {}) as Record<string, unknown>;
    const args: Record<string, unknown> = { ...(options.arguments as Table | undefined) };
    for (const [option, argument] of Object.entries(QUEUE_SHORTHANDS)) {
      if (options[option] !== undefined) args[argument] = options[option];
    }
    const type = typeof args['x-queue-type'] === 'string' ? args['x-queue-type'] : 'classic';
    delete args['x-queue-type'];
    return {
      name,
      type,
      durable: options.durable !== false,
      exclusive: options.exclusive === true,
      autoDelete: options.autoDelete === true,
      arguments: args,
      adoptExisting: adoptable.has(name),
    };
  });

  const exchanges = keyed<ExchangeConfig>(vhostConfig.exchanges)
    // The default exchange and the amq.* ones exist in every vhost and cannot be declared.
    .filter(([name]) => name !== '' && !name.startsWith('amq.'))
    .map(([name, exchange]): ExpectedExchange => {
      const options = (exchange.options ?? {}) as Record<string, unknown>;
      const args: Record<string, unknown> = { ...(options.arguments as Table | undefined) };
      if (typeof options.alternateExchange === 'string') args['alternate-exchange'] = options.alternateExchange;
      return {
        name,
        type: exchange.type ?? 'topic',
        durable: options.durable !== false,
        autoDelete: options.autoDelete === true,
        internal: options.internal === true,
        arguments: args,
      };
    });

  const bindings = keyed<BindingConfig>(vhostConfig.bindings).flatMap(([name, binding]) => {
    const parsed = parseBindingName(name);
    const source = binding.source ?? parsed.source;
    const destination = binding.destination ?? parsed.destination;
    if (source === undefined || destination === undefined) return [];
    const keys = [...new Set([...(binding.bindingKeys ?? []), ...(binding.bindingKey === undefined ? [] : [binding.bindingKey]), ...parsed.keys])];
    return (keys.length === 0 ? ['#'] : keys).map(
      (routingKey): ExpectedBinding => ({
        source,
        destination,
        destinationType: binding.destinationType ?? 'queue',
        routingKey,
        arguments: { ...((binding.options ?? {}) as Table) },
      }),
    );
  });

  return { queues, exchanges, bindings };
}

/** Rascal accepts a collection keyed by name, or an array of names or of objects with a name. */
function keyed<T extends object>(collection: Readonly<Record<string, T>> | readonly (string | T)[] | undefined): [string, T][] {
  if (collection === undefined) return [];
  if (Array.isArray(collection)) {
    return (collection as readonly (string | T)[]).flatMap((item): [string, T][] => {
      if (typeof item === 'string') return [[item, {} as T]];
      const name = (item as { name?: unknown }).name;
      return typeof name === 'string' ? [[name, item]] : [];
    });
  }
  // Rascal declares an entry of a keyed collection under its key, whatever `name` says.
  return Object.entries(collection as Readonly<Record<string, T>>);
}

/** Rascal's binding names: `source[key1, key2] -> destination`. */
function parseBindingName(name: string): { source?: string; destination?: string; keys: string[] } {
  const match = /^\s*([\w:.-]+)\s*(?:\[\s*(.*?)\s*\])?\s*->\s*([\w:.-]+)\s*$/.exec(name);
  if (match === null) return { keys: [] };
  const [, source, keys, destination] = match;
  return { source, destination, keys: keys === undefined ? [] : keys.split(/[,\s]+/).filter(Boolean) };
}
