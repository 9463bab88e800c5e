import { exchangePublications, exchanges, exchangeSubscriptions, rpcCalls, type ExchangeType } from './exchanges.js';
import type { ExchangeName, QueueName } from './names.js';
import { publications, queues, subscriptions } from './topology.js';

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

export interface DefinitionsOptions {
  /** @default '/' */
  readonly vhost?: string;
  /** The user the producer logs in as. @default 'producer' */
  readonly producerUser?: string;
  /** The user the consumer logs in as. @default 'consumer' */
  readonly consumerUser?: string;
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
 * What each app needs, derived from the contract, and nothing more. Both only check the
 * topology (`AMQP_TOPOLOGY=check`): neither may declare or delete a queue or an exchange
 * of the contract.
 *
 * The producer writes to the exchanges of its publications: the default exchange (to
 * `hello` and `task_queue`, and the requests of its RPC calls to `rpc_queue`) and the
 * exchanges of tutorials 3 to 5. It reads nothing: the replies of its RPC calls come
 * through direct reply-to (`amq.rabbitmq.reply-to`), which needs no permission.
 *
 * The consumer reads the queues of its subscriptions (`rpc_queue` included: the RPC
 * server), and writes to the default exchange, through which go its retries, its dead
 * letters and its RPC replies. As a subscriber of tutorials 3 to 5 it declares a queue of
 * its own, named by the broker (configure on `amq.gen-*`), binds it to the exchange (write
 * on the queue, read on the exchange) and consumes it (read on the queue).
 */
export function appRights(): { readonly producer: AppRights; readonly consumer: AppRights } {
  const subscribed = Object.values(subscriptions);
  const published = Object.values(exchangePublications).map((p) => p.exchange);
  const subscribedExchanges = Object.values(exchangeSubscriptions).map((s) => s.exchange);
  const viaDefault = Object.keys(publications).length + Object.keys(rpcCalls).length > 0;
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
 * The contract's topology as RabbitMQ definitions for one vhost: the vhost, every queue
 * (durable, auto-delete and arguments exactly as the apps would declare them), the
 * exchanges of tutorials 3 to 5 (likewise), and the permissions of the producer's and
 * the consumer's users (see `appRights`).
 * @throws Error when both apps are given the same user
 */
export function exportDefinitions(options: DefinitionsOptions = {}): RabbitDefinitions {
  const vhost = options.vhost ?? '/';
  const producerUser = options.producerUser ?? 'producer';
  const consumerUser = options.consumerUser ?? 'consumer';
  if (producerUser === consumerUser) {
    throw new Error(`the producer and the consumer need users of their own (both are '${producerUser}')`);
  }
  const rights = appRights();
  const permission = (user: string, app: AppRights): PermissionDefinition => ({
    user,
    vhost,
    configure: permissionPattern(app.configure),
    write: permissionPattern(app.write),
    read: permissionPattern(app.read),
  });
  return {
    vhosts: [{ name: vhost }],
    queues: Object.values(queues).map((queue) => ({
      name: queue.name,
      vhost,
      durable: queue.options.durable,
      auto_delete: queue.options.autoDelete,
      arguments: { ...queue.options.arguments },
    })),
    exchanges: Object.values(exchanges).map((exchange) => ({
      name: exchange.name,
      vhost,
      type: exchange.type,
      durable: exchange.options.durable,
      auto_delete: exchange.options.autoDelete,
      internal: exchange.options.internal,
      arguments: { ...exchange.options.arguments },
    })),
    bindings: [],
    permissions: [permission(producerUser, rights.producer), permission(consumerUser, rights.consumer)],
  };
}
