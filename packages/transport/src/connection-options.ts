import type { RascalConfig } from './rascal-adapter.js';

/** TLS settings of the connection (Node's `tls.connect` options of the same names). */
export interface TlsOptions {
  /** PEM certificates of the authorities that may sign the broker's certificate. @default Node's trust store */
  readonly ca?: string | Buffer | undefined;
  /** PEM client certificate (chain), for a broker that asks for one (mutual TLS). */
  readonly cert?: string | Buffer | undefined;
  /** PEM private key of `cert`. */
  readonly key?: string | Buffer | undefined;
  /**
   * The name the broker's certificate must carry (and SNI): for a broker reached by an
   * address its certificate does not name, e.g. an IP. @default the URL's host
   */
  readonly servername?: string | undefined;
}

/** A SASL mechanism and its response, as amqplib's `credentials.plain(user, password)` makes. */
export interface SaslCredentials {
  readonly mechanism: string;
  response(): Buffer;
}

export interface ConnectionOptions {
  /** Time allowed to open the TCP connection and finish the AMQP handshake. @default 5000 */
  readonly connectTimeoutMs?: number;
  /** Shown in the broker's connection list (`rabbitmqctl list_connections client_properties`). */
  readonly connectionName?: string;
  /**
   * TLS for an `amqps://` URL: whom to trust and who we are. The broker's certificate is
   * always verified (chain and host name); there is no option to turn that off.
   * @default Node's trust store, no client certificate
   */
  readonly tls?: TlsOptions | undefined;
  /**
   * The login, given to the client library directly rather than through the URL (which
   * then needs no password): any password works as it is, whatever its characters.
   * @default the user and password of the URL
   */
  readonly credentials?: SaslCredentials | undefined;
}

/** What amqplib passes to `net.connect` or `tls.connect`, and its own options among them. */
export interface SocketOptions {
  timeout: number;
  noDelay: true;
  rejectUnauthorized: true;
  clientProperties?: { connection_name: string };
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  servername?: string;
  credentials?: SaslCredentials;
}

/**
 * The socket options of every connection to the broker (amqplib passes them to
 * `net.connect` or `tls.connect`): Rascal's, and any other connection the transport opens,
 * so that they all trust, and log in, alike.
 */
export function connectionSocketOptions(options: ConnectionOptions): SocketOptions {
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

export interface RascalConnectionOptions extends ConnectionOptions {
  /**
   * One URL per node (vhost included; the login too, unless `credentials` gives it), tried
   * in this order: on a lost connection Rascal moves to the next that answers. Never logged
   * as is.
   */
  readonly urls: readonly string[];
  /** The vhost named in the URLs. */
  readonly vhost: string;
  /** AMQP heartbeat: a dead connection is noticed after about two of these. @default 10 */
  readonly heartbeatSeconds?: number | undefined;
}

/**
 * Adds Rascal's connections to the contract's topology (`rascalTopology`): one per node,
 * each alike, reconnecting with backoff.
 */
export function withRascalConnections(topology: RascalConfig, options: RascalConnectionOptions): RascalConfig {
  const socketOptions = connectionSocketOptions(options);
  const declared = topology.vhosts?.[options.vhost] ?? {};
  return {
    ...topology,
    vhosts: {
      ...topology.vhosts,
      [options.vhost]: {
        ...declared,
        // Every node in the order given (the apps shuffle it themselves when asked to).
        connectionStrategy: 'fixed',
        connections: options.urls.map((url) => ({
          url,
          options: {
            heartbeat: options.heartbeatSeconds ?? 10,
            connection_timeout: options.connectTimeoutMs ?? 5000,
          },
          socketOptions,
          // Reconnect after a lost connection: each node in turn at once, then, when none
          // answers, again after 1 s, doubling, at most 30 s between rounds.
          retry: { min: 1000, max: 30_000, factor: 2, strategy: 'exponential' },
        })),
      },
    },
  };
}
