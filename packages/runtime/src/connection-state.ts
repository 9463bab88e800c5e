import type { Metrics } from './metric-events.js';
import type { Readiness } from './readiness.js';

/** What the app knows of its broker connection, from Rascal's events. */
export interface ConnectionState {
  /** The connection is up and Rascal has (re)asserted the topology on it. */
  readonly connected: boolean;
  /** The broker blocks publishing on the connection (a memory or disk alarm). */
  readonly blocked: boolean;
  /** Stops following the broker's events. */
  stop(): void;
}

/** The part of a Rascal broker this listens to. */
export interface BrokerEvents {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

export interface WatchOptions {
  /** Drives `hello_rabbit_broker_connected` and `hello_rabbit_broker_blocked`. */
  readonly metrics?: Metrics | undefined;
  /** Fails its `broker` condition while disconnected or blocked. */
  readonly readiness?: Readiness;
}

/** The readiness condition this drives. */
export const BROKER_CONDITION = 'broker';

/**
 * Follows a Rascal broker's connection from its events, starting connected (as
 * `openBroker` hands it over). Rascal emits, per vhost and forwarded by the broker:
 * `disconnect` when the connection is lost (an error or a close, then again at each failed
 * reconnection attempt); `connect` once a new connection is open and the topology is
 * asserted and checked again on it; `blocked` and `unblocked` when the broker starts and
 * stops blocking publishers (`connection.blocked`, a resource alarm). A closed connection
 * is never blocked: a new one starts unblocked.
 */
export function watchBrokerConnection(broker: BrokerEvents, options: WatchOptions = {}): ConnectionState {
  const { metrics, readiness } = options;
  let connected = true;
  let blocked = false;

  const publish = () => {
    metrics?.setBrokerConnected(connected);
    metrics?.setBrokerBlocked(blocked);
    if (!connected) readiness?.fail(BROKER_CONDITION, 'not connected to the broker (reconnecting)');
    else if (blocked) readiness?.fail(BROKER_CONDITION, 'the broker blocks publishing (resource alarm)');
    else readiness?.pass(BROKER_CONDITION);
  };

  const onDisconnect = () => {
    connected = false;
    blocked = false;
    publish();
  };
  const onConnect = () => {
    connected = true;
    blocked = false;
    publish();
  };
  const onBlocked = () => {
    blocked = true;
    publish();
  };
  const onUnblocked = () => {
    blocked = false;
    publish();
  };

  broker.on('disconnect', onDisconnect);
  broker.on('connect', onConnect);
  broker.on('blocked', onBlocked);
  broker.on('unblocked', onUnblocked);
  publish();

  return {
    get connected() {
      return connected;
    },
    get blocked() {
      return blocked;
    },
    stop: () => {
      broker.off('disconnect', onDisconnect);
      broker.off('connect', onConnect);
      broker.off('blocked', onBlocked);
      broker.off('unblocked', onUnblocked);
    },
  };
}
