import type { QueueName } from './names.js';
import { publications, queues, subscriptions } from './topology.js';

/**
 * RabbitMQ checks permissions on the default exchange (`''`, which routes to the queue
 * named by the routing key) under this name: a user may publish there only if its
 * `write` pattern matches `amq.default`. It cannot be narrowed to some routing keys: a
 * user who may write to the default exchange may send to any queue of the vhost.
 */
export const DEFAULT_EXCHANGE_RESOURCE = 'amq.default';

/** One app's rights on a vhost, as the names of the resources each permission covers. */
export interface AppRights {
  /** Queues and exchanges it may declare or delete: none, the apps only check. */
  readonly configure: readonly string[];
  /** Exchanges it may publish to. */
  readonly write: readonly string[];
  /** Queues it may consume from (and exchanges it may bind from). */
  readonly read: readonly string[];
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

/**
 * RabbitMQ definitions (the JSON of `rabbitmqctl import_definitions` and of the management
 * API's `POST /api/definitions`) for one vhost. Users are left out on purpose: a user
 * entry carries a password hash, and importing one again would reset the password of a
 * user that exists. Create the users first (`rabbitmqctl add_user`), then import.
 */
export interface RabbitDefinitions {
  readonly vhosts: readonly { readonly name: string }[];
  readonly queues: readonly QueueDefinition[];
  readonly exchanges: readonly never[];
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

const unique = (names: readonly string[]) => [...new Set(names)].sort();

/**
 * What each app needs, derived from the contract, and nothing more. Both only check the
 * topology (`AMQP_TOPOLOGY=check`), so neither may configure anything.
 * - the producer writes to the exchanges of its publications, and reads nothing;
 * - the consumer reads the queues of its subscriptions, and writes to the exchanges its
 *   retries and dead letters go through (the default exchange).
 */
export function appRights(): { readonly producer: AppRights; readonly consumer: AppRights } {
  const subscribed = Object.values(subscriptions);
  return {
    producer: {
      configure: [],
      // Every publication of the contract goes through the default exchange, routing key
      // its queue (see PublicationDeclaration).
      write: Object.keys(publications).length > 0 ? [DEFAULT_EXCHANGE_RESOURCE] : [],
      read: [],
    },
    consumer: {
      configure: [],
      // Retry and dead-letter copies are published to the default exchange, routing key
      // the wait or dead-letter queue; the broker moves a retry back by itself.
      write: subscribed.length > 0 ? [DEFAULT_EXCHANGE_RESOURCE] : [],
      read: unique(subscribed.map((s) => s.queue)),
    },
  };
}

/** A RabbitMQ permission pattern matching exactly these names: `^$` (nothing) when none. */
export function permissionPattern(names: readonly string[]): string {
  if (names.length === 0) return '^$';
  const escaped = unique(names).map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return escaped.length === 1 ? `^${escaped[0] ?? ''}$` : `^(${escaped.join('|')})$`;
}

/**
 * The contract's topology as RabbitMQ definitions for one vhost: the vhost, every queue
 * (durable, auto-delete and arguments exactly as the apps would declare them), and the
 * permissions of the producer's and the consumer's users (see `appRights`).
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
    exchanges: [],
    bindings: [],
    permissions: [permission(producerUser, rights.producer), permission(consumerUser, rights.consumer)],
  };
}
