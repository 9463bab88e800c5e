import amqplib from 'amqplib';
import {
  nodeEndpoints,
  urlWithoutCredentials,
  withDeadline,
  type AmqpEndpoint,
  type Logger,
} from '@hello-rabbit/runtime';
import { toBrokerError } from './broker-errors.js';
import { connectionSocketOptions, type SaslCredentials, type TlsOptions } from './connection-options.js';
import { BrokerError } from './errors.js';

/** How to reach and log in to one node: the same for every connection the apps and tools open. */
export interface Connecting {
  /** The URL without user and password (when the endpoint names them). */
  readonly url: string;
  readonly tls: TlsOptions | undefined;
  readonly credentials: SaslCredentials | undefined;
}

/**
 * SASL PLAIN, as amqplib's `credentials.plain` makes it, minus its `username` and
 * `password` fields: the password stays in the closure, out of any object a library might
 * print.
 */
function plainLogin(user: string, password: string): SaslCredentials {
  return { mechanism: 'PLAIN', response: () => Buffer.from(`\0${user}\0${password}`, 'utf8') };
}

/**
 * The URL, TLS options (files read at start) and login of an endpoint, as amqplib takes
 * them. amqplib reads a password out of a URL with unescape(), which mangles anything
 * beyond ASCII; given the login directly, any password works, and the URL (which a library
 * may put in its own messages) holds none.
 */
export function connecting(endpoint: AmqpEndpoint): Connecting {
  const { tls } = endpoint;
  const named = endpoint.user !== '' || endpoint.password !== '';
  return {
    url: named ? urlWithoutCredentials(endpoint) : endpoint.url,
    credentials: named ? plainLogin(endpoint.user, endpoint.password) : undefined,
    tls:
      tls === undefined
        ? undefined
        : { ca: tls.ca?.contents, cert: tls.cert?.contents, key: tls.key?.contents, servername: tls.servername },
  };
}

/** A node that did not answer in time, in one line. */
export function connectTimeout(node: AmqpEndpoint, ms: number): BrokerError {
  return new BrokerError(
    'CONNECT_TIMEOUT',
    `cannot reach the broker at ${node.host}:${node.port}: no answer within ${ms} ms`,
  );
}

/** Failures that another node of a cluster may not have. */
export const UNREACHABLE: ReadonlySet<BrokerError['code']> = new Set([
  'BROKER_UNREACHABLE',
  'CONNECT_TIMEOUT',
  'HANDSHAKE_FAILED',
]);

/** How `connectFirstNode` connects. */
export interface PlainConnectionOptions {
  /** TCP connect plus AMQP handshake, per node. */
  readonly connectTimeoutMs: number;
  /** Shown in the broker's connection list. */
  readonly connectionName: string;
  /** AMQP heartbeat, in seconds. @default amqplib's (none) */
  readonly heartbeatSeconds?: number;
}

/** A plain amqplib connection (nothing declared) and the node it reached. */
export interface PlainConnection {
  readonly connection: amqplib.ChannelModel;
  /** The node it is connected to. */
  readonly node: AmqpEndpoint;
  /** Its place among the endpoint's nodes (`nodeEndpoints`). */
  readonly index: number;
}

/**
 * Opens a plain amqplib connection (nothing declared) to the first of the endpoint's nodes
 * that answers (AMQP_HOSTS, or the URL's host): one that cannot be reached is passed over
 * with a warning; any other failure (a wrong login, a missing vhost) would be the same on
 * every node of a cluster, and is thrown at once. The broker's certificate is always
 * verified; a node that does not answer within the connect timeout is an error, not a hang.
 * @throws BrokerError with a one-line, password-free message; naming every node when none answers
 */
export async function connectFirstNode(
  endpoint: AmqpEndpoint,
  options: PlainConnectionOptions,
  logger: Logger,
): Promise<PlainConnection> {
  const nodes = nodeEndpoints(endpoint);
  const unreachable: BrokerError[] = [];
  for (const [index, node] of nodes.entries()) {
    try {
      return { connection: await connectNode(node, options), node, index };
    } catch (err) {
      if (nodes.length === 1 || !(err instanceof BrokerError) || !UNREACHABLE.has(err.code)) throw err;
      logger.warn(
        { node: `${node.host}:${node.port}`, reason: err.message },
        'cannot reach this broker node; trying the next',
      );
      unreachable.push(err);
    }
  }
  throw new BrokerError(
    'BROKER_UNREACHABLE',
    `cannot reach any of the ${nodes.length} broker nodes ` +
      `of AMQP_HOSTS: ${unreachable.map((err) => err.message).join('; ')}`,
  );
}

async function connectNode(node: AmqpEndpoint, options: PlainConnectionOptions): Promise<amqplib.ChannelModel> {
  const how = connecting(node);
  const url = new URL(how.url);
  if (options.heartbeatSeconds !== undefined && !url.searchParams.has('heartbeat'))
    url.searchParams.set('heartbeat', String(options.heartbeatSeconds));
  const opening = amqplib.connect(
    url.toString(),
    connectionSocketOptions({
      connectTimeoutMs: options.connectTimeoutMs,
      connectionName: options.connectionName,
      tls: how.tls,
      credentials: how.credentials,
    }),
  );
  return withDeadline(opening, options.connectTimeoutMs, () => connectTimeout(node, options.connectTimeoutMs)).catch(
    (err: unknown) => {
      // A connection that arrives after the deadline is closed, not leaked.
      opening.then((late) => late.close()).catch(() => undefined);
      throw toBrokerError(err, node);
    },
  );
}
