import { exchangePublications, exchanges, exchangeSubscriptions, rpcCalls, type ExchangeType } from './exchanges.js';
import type { ExchangeName, PublicationName, QueueName, RpcName, SubscriptionName } from './names.js';
import { publications, queues, queuesUsedBy, subscriptions } from './topology.js';

/**
 * RabbitMQ checks permissions on the default exchange (`''`, which routes to the queue
 * named by the routing key) under this name: a user may publish there only if its
 * `write` pattern matches `amq.default`. It cannot be narrowed to some routing keys: a
 * user who may write to the default exchange may send to any queue of the vhost.
 */
export const DEFAULT_EXCHANGE_RESOURCE = 'amq.default';

/**
 * How the broker names a queue declared with the name `''` (the subscriber queues of
 * tutorials 3 to 5, `amq.gen-` and 22 characters). Names starting with `amq.` are the
 * broker's: no client may declare such a queue by name, so a permission on this prefix
 * covers only queues the broker named.
 */
export const SERVER_NAMED_QUEUE_PREFIX = 'amq.gen-';

/** What a permission covers: a resource by its name, or every resource whose name starts with `prefix`. */
export type Resource = string | { readonly prefix: string };

/** One app's rights on a vhost: the resources each permission covers. */
export interface AppRights {
  /** Queues and exchanges it may declare or delete: only the queues the broker names for it. */
  readonly configure: readonly Resource[];
  /** Exchanges it may publish to, and queues it may bind to an exchange. */
  readonly write: readonly Resource[];
  /** Queues it may consume from, and exchanges it may bind a queue to. */
  readonly read: readonly Resource[];
}

/** A `permissions` entry of RabbitMQ definitions: three regular expressions. */
export interface PermissionDefinition {
  readonly user: string;
  readonly vhost: string;
  readonly configure: string;
  readonly write: string;
  readonly read: string;
}

/** A `queues` entry of RabbitMQ definitions. */
export interface QueueDefinition {
  readonly name: QueueName;
  readonly vhost: string;
  readonly durable: boolean;
  readonly auto_delete: boolean;
  readonly arguments: Readonly<Record<string, unknown>>;
}

/** An `exchanges` entry of RabbitMQ definitions. */
export interface ExchangeDefinition {
  readonly name: ExchangeName;
  readonly vhost: string;
  readonly type: ExchangeType;
  readonly durable: boolean;
  readonly auto_delete: boolean;
  readonly internal: boolean;
  readonly arguments: Readonly<Record<string, unknown>>;
}

/**
 * RabbitMQ definitions (the JSON of `rabbitmqctl import_definitions` and of the management
 * API's `POST /api/definitions`) for one vhost. Users are left out on purpose: a user
 * entry carries a password hash, and importing one again would reset the password of a
 * user that exists. Create the users first (`rabbitmqctl add_user`), then import.
 *
 * There are no bindings: the only ones the apps use bind a subscriber's own queue, named
 * by the broker when the subscriber starts, and the subscriber makes them itself.
 */
export interface RabbitDefinitions {
  readonly vhosts: readonly { readonly name: string }[];
  readonly queues: readonly QueueDefinition[];
  readonly exchanges: readonly ExchangeDefinition[];
  readonly bindings: readonly never[];
  readonly permissions: readonly PermissionDefinition[];
}

/**
 * A producer command, by what it publishes to: a queue of the contract (`hello`, the Hello
 * World send `producer [--to hello]`; `task_queue`, `producer --to task_queue`), a remote
 * procedure (`rpc_queue`, the RPC client `producer --rpc <n>`) or an exchange (`logs`,
 * `direct_logs`, `topic_logs`: `producer --to <exchange>`).
 */
export type ProducerCommand = PublicationName | RpcName | ExchangeName;

/**
 * A consumer command, by what it consumes: a subscription of the contract (`hello`,
 * `task_queue`, or `rpc_queue`, the RPC server: `consumer --from <name>`) or an exchange it
 * subscribes to with a queue of its own (`consumer --from logs|direct_logs|topic_logs`).
 */
export type ConsumerCommand = SubscriptionName | ExchangeName;

/** Every producer command, in the contract's order: publications, remote procedures, exchanges. */
export const producerCommands: readonly ProducerCommand[] = [
  ...(Object.keys(publications) as PublicationName[]),
  ...(Object.keys(rpcCalls) as RpcName[]),
  ...(Object.keys(exchangePublications) as ExchangeName[]),
];

/** Every consumer command, in the contract's order: subscriptions, then exchanges. */
export const consumerCommands: readonly ConsumerCommand[] = [
  ...(Object.keys(subscriptions) as SubscriptionName[]),
  ...(Object.keys(exchangeSubscriptions) as ExchangeName[]),
];

/** What a definitions export is for: the vhost, the users, and the commands it covers. */
export interface DefinitionsOptions {
  /** @default '/' */
  readonly vhost?: string | undefined;
  /** The user the producer logs in as. @default 'producer' */
  readonly producerUser?: string | undefined;
  /** The user the consumer logs in as. @default 'consumer' */
  readonly consumerUser?: string | undefined;
  /**
   * Cover only these producer commands (see `ProducerCommand`): the queues and exchanges they
   * use and a producer permission for exactly them. Given with no `consumerFrom`, the export
   * holds no consumer permission. A name given twice counts once; an unknown one throws.
   * @default every producer command when `consumerFrom` is not given either (the whole
   * contract); none (no producer permission) when only `consumerFrom` is given
   */
  readonly producerTo?: readonly ProducerCommand[] | undefined;
  /**
   * Cover only these consumer commands (see `ConsumerCommand`): the queues they use (a
   * subscription's queue, its retry wait queues and its dead-letter queue), the exchanges
   * they subscribe to, and a consumer permission for exactly them. Given with no
   * `producerTo`, the export holds no producer permission. An unknown name throws.
   * @default every consumer command when `producerTo` is not given either (the whole
   * contract); none (no consumer permission) when only `producerTo` is given
   */
  readonly consumerFrom?: readonly ConsumerCommand[] | undefined;
}

/** The commands an export covers, sorted by what each uses. */
interface Coverage {
  /** Every queue and exchange of the contract, and both apps: neither list was given. */
  readonly whole: boolean;
  /** Whether the export holds a producer permission. */
  readonly producer: boolean;
  /** Whether the export holds a consumer permission. */
  readonly consumer: boolean;
  readonly publications: readonly PublicationName[];
  readonly rpcs: readonly RpcName[];
  readonly published: readonly ExchangeName[];
  readonly subscriptions: readonly SubscriptionName[];
  readonly subscribed: readonly ExchangeName[];
}

const isKeyOf = <T extends object>(record: T, name: string): name is Extract<keyof T, string> =>
  Object.hasOwn(record, name);

/** The known names, for an error message. */
const oneOf = (names: readonly string[]) => `one of: ${names.join(', ')}`;

/**
 * Which commands `commands` covers; every command of the contract when neither list is
 * given.
 * @throws Error (one line) naming an unknown command, or when both lists are empty
 */
function coverage(commands: Pick<DefinitionsOptions, 'producerTo' | 'consumerFrom'>): Coverage {
  const { producerTo, consumerFrom } = commands;
  if (producerTo === undefined && consumerFrom === undefined) {
    return {
      whole: true,
      producer: true,
      consumer: true,
      publications: Object.keys(publications) as PublicationName[],
      rpcs: Object.keys(rpcCalls) as RpcName[],
      published: Object.keys(exchangePublications) as ExchangeName[],
      subscriptions: Object.keys(subscriptions) as SubscriptionName[],
      subscribed: Object.keys(exchangeSubscriptions) as ExchangeName[],
    };
  }
  if ((producerTo ?? []).length === 0 && (consumerFrom ?? []).length === 0) {
    throw new Error(
      'no command to cover: name at least one in producerTo or consumerFrom, or leave both out for the whole contract',
    );
  }
  const covered = {
    publications: new Set<PublicationName>(),
    rpcs: new Set<RpcName>(),
    published: new Set<ExchangeName>(),
    subscriptions: new Set<SubscriptionName>(),
    subscribed: new Set<ExchangeName>(),
  };
  // Checked at run time as well: the names may come from a command line or a file.
  for (const name of producerTo ?? []) {
    if (isKeyOf(publications, name)) covered.publications.add(name);
    else if (isKeyOf(rpcCalls, name)) covered.rpcs.add(name);
    else if (isKeyOf(exchangePublications, name)) covered.published.add(name);
    else throw new Error(`producerTo: unknown producer command ${JSON.stringify(name)} (${oneOf(producerCommands)})`);
  }
  for (const name of consumerFrom ?? []) {
    if (isKeyOf(subscriptions, name)) covered.subscriptions.add(name);
    else if (isKeyOf(exchangeSubscriptions, name)) covered.subscribed.add(name);
    else throw new Error(`consumerFrom: unknown consumer command ${JSON.stringify(name)} (${oneOf(consumerCommands)})`);
  }
  return {
    whole: false,
    producer: (producerTo ?? []).length > 0,
    consumer: (consumerFrom ?? []).length > 0,
    publications: [...covered.publications],
    rpcs: [...covered.rpcs],
    published: [...covered.published],
    subscriptions: [...covered.subscriptions],
    subscribed: [...covered.subscribed],
  };
}

const keyOf = (resource: Resource) => (typeof resource === 'string' ? resource : `${resource.prefix}*`);

/** The resources once each, names first then prefixes, each group sorted. */
function unique(resources: readonly Resource[]): Resource[] {
  const byKey = new Map(resources.map((resource) => [keyOf(resource), resource]));
  return [...byKey.values()].sort((a, b) => {
    if (typeof a !== typeof b) return typeof a === 'string' ? -1 : 1;
    return keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0;
  });
}

/**
 * What each app needs for the commands it runs, derived from the contract, and nothing
 * more. Both only check the topology (`AMQP_TOPOLOGY=check`): neither may declare or delete
 * a queue or an exchange of the contract. By default each app runs every command of the
 * contract; given `producerTo` or `consumerFrom`, only those (an app with none has no
 * rights at all).
 *
 * The producer writes to the exchanges it publishes to: the default exchange when it sends
 * to a queue (`hello`, `task_queue`) or calls a remote procedure (its requests to
 * `rpc_queue`), and the exchanges of tutorials 3 to 5 it publishes to. It reads nothing:
 * the replies of its RPC calls come through direct reply-to (`amq.rabbitmq.reply-to`),
 * which needs no permission.
 *
 * The consumer reads the queues of its subscriptions (`rpc_queue` included: the RPC
 * server), and writes to the default exchange, through which go its retries, its dead
 * letters and its RPC replies. As a subscriber of tutorials 3 to 5 it declares a queue of
 * its own, named by the broker (configure on `amq.gen-*`), binds it to the exchange (write
 * on the queue, read on the exchange) and consumes it (read on the queue).
 * @throws Error (one line) naming an unknown command, or when both lists are given empty
 */
export function appRights(commands: Pick<DefinitionsOptions, 'producerTo' | 'consumerFrom'> = {}): {
  readonly producer: AppRights;
  readonly consumer: AppRights;
} {
  return rightsOf(coverage(commands));
}

function rightsOf(covered: Coverage): { readonly producer: AppRights; readonly consumer: AppRights } {
  const subscribed = covered.subscriptions.map((name) => subscriptions[name]);
  const published = covered.published.map((name) => exchangePublications[name].exchange);
  const subscribedExchanges = covered.subscribed.map((name) => exchangeSubscriptions[name].exchange);
  const viaDefault = covered.publications.length + covered.rpcs.length > 0;
  const ownQueues: Resource[] = subscribedExchanges.length > 0 ? [{ prefix: SERVER_NAMED_QUEUE_PREFIX }] : [];
  return {
    producer: {
      configure: [],
      write: unique([...(viaDefault ? [DEFAULT_EXCHANGE_RESOURCE] : []), ...published]),
      read: [],
    },
    consumer: {
      configure: ownQueues,
      // Retry and dead-letter copies, and RPC replies, are published to the default
      // exchange, routing key the wait or dead-letter queue, or the reply-to address.
      write: unique([...(subscribed.length > 0 ? [DEFAULT_EXCHANGE_RESOURCE] : []), ...ownQueues]),
      read: unique([...subscribed.map((s) => s.queue), ...subscribedExchanges, ...ownQueues]),
    },
  };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A RabbitMQ permission pattern matching exactly these resources: each name as it is,
 * each prefix followed by anything; `^$` (nothing) when there are none. RabbitMQ matches
 * the pattern against the whole name of a queue or an exchange.
 */
export function permissionPattern(resources: readonly Resource[]): string {
  if (resources.length === 0) return '^$';
  const parts = unique(resources).map((resource) =>
    typeof resource === 'string' ? escapeRegExp(resource) : `${escapeRegExp(resource.prefix)}.*`,
  );
  return parts.length === 1 ? `^${parts[0] ?? ''}$` : `^(${parts.join('|')})$`;
}

/**
 * The contract's topology as RabbitMQ definitions for one vhost: the vhost, the queues
 * (durable, auto-delete and arguments exactly as the apps would declare them), the
 * exchanges of tutorials 3 to 5 (likewise), and the permissions of the producer's and the
 * consumer's users (see `appRights`).
 *
 * By default it covers every command: every queue and exchange of the contract, and both
 * users. Given `producerTo` or `consumerFrom`, it covers those commands alone: the queues
 * they use (`queuesUsedBy`), the exchanges they publish or subscribe to, and a permission
 * only for the app(s) named, narrowed to exactly that. A Hello World send
 * (`{ producerTo: ['hello'] }`) gets the queue `hello` and a producer that may write to the
 * default exchange, and nothing else.
 * @throws Error (one line) when both apps are covered and given the same user, naming an
 * unknown command, or when both lists are given empty
 */
export function exportDefinitions(options: DefinitionsOptions = {}): RabbitDefinitions {
  const vhost = options.vhost ?? '/';
  const producerUser = options.producerUser ?? 'producer';
  const consumerUser = options.consumerUser ?? 'consumer';
  const covered = coverage(options);
  if (covered.producer && covered.consumer && producerUser === consumerUser) {
    throw new Error(`the producer and the consumer need users of their own (both are '${producerUser}')`);
  }
  const rights = rightsOf(covered);
  const permission = (user: string, app: AppRights): PermissionDefinition => ({
    user,
    vhost,
    configure: permissionPattern(app.configure),
    write: permissionPattern(app.write),
    read: permissionPattern(app.read),
  });
  const usedQueues = covered.whole
    ? Object.values(queues)
    : queuesUsedBy({ publications: covered.publications, subscriptions: covered.subscriptions });
  const usedExchanges = new Set<ExchangeName>([...covered.published, ...covered.subscribed]);
  return {
    vhosts: [{ name: vhost }],
    queues: usedQueues.map((queue) => ({
      name: queue.name,
      vhost,
      durable: queue.options.durable,
      auto_delete: queue.options.autoDelete,
      arguments: { ...queue.options.arguments },
    })),
    exchanges: Object.values(exchanges)
      .filter((exchange) => covered.whole || usedExchanges.has(exchange.name))
      .map((exchange) => ({
        name: exchange.name,
        vhost,
        type: exchange.type,
        durable: exchange.options.durable,
        auto_delete: exchange.options.autoDelete,
        internal: exchange.options.internal,
        arguments: { ...exchange.options.arguments },
      })),
    bindings: [],
    permissions: [
      ...(covered.producer ? [permission(producerUser, rights.producer)] : []),
      ...(covered.consumer ? [permission(consumerUser, rights.consumer)] : []),
    ],
  };
}
