import { BrokerError } from '@hello-rabbit/transport';
import {
  apiSegment,
  createManagementClient,
  managementQueueShape,
  policyDefinitionShape,
  type ManagementQueue,
} from '@hello-rabbit/transport/operations';
import * as z from 'zod';
import type { ManagementSettings } from './load-env.js';

/** Arguments of an exchange or binding as the API shows them. */
const argumentsTable = z.record(z.string(), z.unknown());

export type ApiQueue = ManagementQueue;

const exchange = z.looseObject({
  name: z.string(),
  type: z.string(),
  durable: z.boolean(),
  auto_delete: z.boolean(),
  internal: z.boolean(),
  arguments: argumentsTable,
});
export type ApiExchange = z.output<typeof exchange>;

const binding = z.looseObject({
  source: z.string(),
  destination: z.string(),
  destination_type: z.enum(['queue', 'exchange']),
  routing_key: z.string(),
  arguments: argumentsTable,
});
export type ApiBinding = z.output<typeof binding>;

const policy = z.looseObject({
  name: z.string(),
  pattern: z.string(),
  'apply-to': z.string(),
  definition: policyDefinitionShape,
  priority: z.number(),
});
export type ApiPolicy = z.output<typeof policy>;

const overview = z.looseObject({
  management_version: z.string(),
  rabbitmq_version: z.string().optional(),
});
export type ApiOverview = z.output<typeof overview>;

/** The RabbitMQ management HTTP API, the few reads the tool needs. Every failure is a one-line BrokerError. */
export interface ManagementApi {
  /** The API's base URL, without credentials. */
  readonly where: string;
  overview(): Promise<ApiOverview>;
  /** Whether the vhost exists (and the user may see it). */
  hasVhost(vhost: string): Promise<boolean>;
  queues(vhost: string): Promise<ApiQueue[]>;
  /** One queue, or undefined when it does not exist. */
  queue(vhost: string, name: string): Promise<ApiQueue | undefined>;
  exchanges(vhost: string): Promise<ApiExchange[]>;
  bindings(vhost: string): Promise<ApiBinding[]>;
  policies(vhost: string): Promise<ApiPolicy[]>;
  operatorPolicies(vhost: string): Promise<ApiPolicy[]>;
}

/**
 * The management API through the transport's client (the one the apps' queue check uses):
 * its login, timeout, redirect and error handling, with MANAGEMENT_URL named in advice.
 */
export function createManagementApi(settings: ManagementSettings): ManagementApi {
  const client = createManagementClient({
    url: settings.url,
    user: settings.user,
    password: settings.password,
    timeoutMs: settings.timeoutMs,
    urlSetting: 'MANAGEMENT_URL',
  });
  const { where } = client;
  const read = <T extends z.ZodType>(path: string, shape: T): Promise<z.output<T> | undefined> =>
    client.get(path, shape);

  /** A list in a vhost; a 404 means the vhost does not exist. */
  const list = async <T extends z.ZodType>(path: string, vhost: string, shape: T): Promise<z.output<T>[]> => {
    const items = await read(path, z.array(shape));
    if (items === undefined) throw vhostNotFound(vhost);
    return items;
  };

  const vhostNotFound = (vhost: string) =>
    new BrokerError(
      'VHOST_NOT_FOUND',
      `the management API at ${where} has no vhost '${vhost}' for user '${settings.user}': ` +
        'it does not exist or the user has no access',
    );

  return {
    where,
    overview: async () => {
      const found = await read('/api/overview', overview);
      if (found === undefined)
        throw new BrokerError(
          'HANDSHAKE_FAILED',
          `the server at ${where} has no /api/overview: is it the RabbitMQ management API?`,
        );
      return found;
    },
    hasVhost: async (vhost) => (await read(`/api/vhosts/${apiSegment(vhost)}`, z.unknown())) !== undefined,
    queues: (vhost) => list(`/api/queues/${apiSegment(vhost)}`, vhost, managementQueueShape),
    queue: (vhost, name) => read(`/api/queues/${apiSegment(vhost)}/${apiSegment(name)}`, managementQueueShape),
    exchanges: (vhost) => list(`/api/exchanges/${apiSegment(vhost)}`, vhost, exchange),
    bindings: (vhost) => list(`/api/bindings/${apiSegment(vhost)}`, vhost, binding),
    policies: (vhost) => list(`/api/policies/${apiSegment(vhost)}`, vhost, policy),
    operatorPolicies: (vhost) => list(`/api/operator-policies/${apiSegment(vhost)}`, vhost, policy),
  };
}
