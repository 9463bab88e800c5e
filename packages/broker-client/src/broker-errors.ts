import type { AmqpEndpoint } from './amqp-url.js';
import { scrubSecret } from './amqp-url.js';
import { BrokerError } from './errors.js';

interface ErrorLike {
  readonly code?: unknown;
  readonly message?: unknown;
}

/**
 * Turns whatever amqplib or Rascal threw while connecting into a BrokerError with a
 * one-line message that names the problem, the host and the user, never the password.
 */
export function toBrokerError(err: unknown, endpoint: AmqpEndpoint): BrokerError {
  if (err instanceof BrokerError) return err;
  const { code, message } = (err ?? {}) as ErrorLike;
  const text = typeof message === 'string' ? message : String(err);
  const where = `${endpoint.host}:${endpoint.port}`;

  switch (code) {
    case 'ECONNREFUSED':
      return new BrokerError('BROKER_UNREACHABLE', `cannot reach the broker at ${where}: connection refused (is RabbitMQ running?)`, { cause: err });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new BrokerError('BROKER_UNREACHABLE', `cannot reach the broker: host '${endpoint.host}' not found`, { cause: err });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new BrokerError('BROKER_UNREACHABLE', `cannot reach the broker at ${where}: no route to host`, { cause: err });
    case 'ETIMEDOUT':
      return new BrokerError('CONNECT_TIMEOUT', `cannot reach the broker at ${where}: no answer in time`, { cause: err });
    case 'ECONNRESET':
    case 'EPIPE':
      return new BrokerError('HANDSHAKE_FAILED', `the broker at ${where} closed the connection during the AMQP handshake (is it an AMQP 0-9-1 port?)`, { cause: err });
    default:
      break;
  }
  if (/ACCESS[-_]REFUSED|\b403\b/.test(text)) {
    return new BrokerError(
      'ACCESS_REFUSED',
      `the broker at ${where} refused the login of user '${endpoint.user}': wrong username or password`,
      { cause: err },
    );
  }
  // RabbitMQ answers connection.open for an unknown vhost with connection.close 530.
  if (/NOT[-_]ALLOWED|\b530\b|Expected ConnectionOpenOk/.test(text)) {
    return new BrokerError(
      'VHOST_NOT_FOUND',
      `the broker at ${where} refused vhost '${endpoint.vhost}' for user '${endpoint.user}': it does not exist or the user has no access`,
      { cause: err },
    );
  }
  if (/Socket closed abruptly|Unexpected close|Frame size \d+ exceeds|Expected AMQP protocol/i.test(text)) {
    return new BrokerError(
      'HANDSHAKE_FAILED',
      `the server at ${where} did not complete the AMQP handshake (is it an AMQP 0-9-1 port?)`,
      { cause: err },
    );
  }
  // The connection went away after the handshake, while the topology was being set up
  // (a broker restarting, a node going down).
  if (/Channel ended|Connection closed|CONNECTION[-_]FORCED|\b320\b/.test(text)) {
    return new BrokerError('BROKER_UNREACHABLE', `the broker at ${where} closed the connection during start-up (is it restarting?)`, {
      cause: err,
    });
  }
  if (/ETIMEDOUT|timed? ?out/i.test(text)) {
    return new BrokerError('CONNECT_TIMEOUT', `cannot reach the broker at ${where}: no answer in time`, { cause: err });
  }
  const firstLine = scrubSecret(text, endpoint.password).split('\n')[0] ?? '';
  return new BrokerError('BROKER_ERROR', `broker at ${where}: ${firstLine}`, { cause: err });
}
