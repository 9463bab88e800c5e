import type { AmqpEndpoint } from '@hello-rabbit/runtime';
import { scrubSecret } from '@hello-rabbit/runtime';
import { BrokerError } from './errors.js';

interface ErrorLike {
  readonly code?: unknown;
  readonly message?: unknown;
}

/** Node's codes for a broker certificate that does not chain up to a trusted authority. */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REJECTED',
  'INVALID_CA',
]);

/** The TLS alerts a broker sends when it wants, or refuses, our client certificate. */
const CLIENT_CERT_REQUIRED = new Set([
  'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  // TLS 1.2 has no such alert: a broker with fail_if_no_peer_cert answers a handshake failure.
  'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
]);
const CLIENT_CERT_REFUSED = new Set([
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
  'ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR',
]);

/** A TLS failure while connecting, as one line that says what to change; undefined when it is not one. */
function tlsError(err: unknown, code: string, text: string, endpoint: AmqpEndpoint): BrokerError | undefined {
  const where = `${endpoint.host}:${endpoint.port}`;
  const tls = endpoint.tls;
  const reason = text.split('\n')[0] ?? code;
  if (UNTRUSTED.has(code)) {
    const advice =
      tls?.ca === undefined
        ? 'set AMQP_TLS_CA_FILE to the certificate of the CA that signed it'
        : `it is not signed by the CA in AMQP_TLS_CA_FILE (${tls.ca.path})`;
    return new BrokerError(
      'TLS_ERROR',
      `TLS: the broker's certificate at ${where} is not trusted (${reason}): ${advice}`,
      { cause: err },
    );
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return new BrokerError('TLS_ERROR', `TLS: the broker's certificate at ${where} is not valid now (${reason})`, {
      cause: err,
    });
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const name = tls?.servername ?? endpoint.host;
    const which = tls?.servername === undefined ? `the host '${name}'` : `'${name}' (AMQP_TLS_SERVERNAME)`;
    const detail = (err as { reason?: unknown }).reason;
    return new BrokerError(
      'TLS_ERROR',
      `TLS: the broker's certificate at ${where} does not name ${which}` +
        `${typeof detail === 'string' ? ` (${detail.trim()})` : ''}: ` +
        'connect by a name it holds, or set AMQP_TLS_SERVERNAME to one',
      { cause: err },
    );
  }
  if (CLIENT_CERT_REQUIRED.has(code) && tls?.cert === undefined) {
    return new BrokerError(
      'TLS_ERROR',
      `TLS: the broker at ${where} requires a client certificate: set AMQP_TLS_CERT_FILE and AMQP_TLS_KEY_FILE`,
      { cause: err },
    );
  }
  if (CLIENT_CERT_REFUSED.has(code) || CLIENT_CERT_REQUIRED.has(code)) {
    const which = tls?.cert === undefined ? 'our TLS handshake' : `our client certificate (${tls.cert.path})`;
    return new BrokerError('TLS_ERROR', `TLS: the broker at ${where} refused ${which}: ${alertOf(text) ?? reason}`, {
      cause: err,
    });
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return new BrokerError(
      'HANDSHAKE_FAILED',
      `TLS: the server at ${where} does not speak TLS ` +
        `(is ${endpoint.port} its amqps:// port? amqp:// is 5672, amqps:// 5671 by default)`,
      { cause: err },
    );
  }
  if (
    code.startsWith('ERR_SSL_') ||
    code.startsWith('ERR_TLS_') ||
    code.startsWith('CERT_') ||
    code.startsWith('ERR_OSSL_')
  ) {
    return new BrokerError(
      'TLS_ERROR',
      `TLS: the handshake with the broker at ${where} failed: ${alertOf(text) ?? reason}`,
      { cause: err },
    );
  }
  return undefined;
}

/** `tlsv13 alert certificate required` out of OpenSSL's long message. */
function alertOf(text: string): string | undefined {
  return /(tlsv1\d? alert [a-z ]+|sslv3 alert [a-z ]+)/i.exec(text)?.[1];
}

/** The operations a permission covers, to say which one the broker refused. */
const PERMISSION_OF: Readonly<Record<string, string>> = {
  QueueDeclare: 'configure',
  QueueDelete: 'configure',
  ExchangeDeclare: 'configure',
  ExchangeDelete: 'configure',
  // https://www.rabbitmq.com/docs/access-control: a binding is a write to the queue and a
  // read from the exchange.
  QueueBind: 'write permission on the queue and read',
  QueueUnbind: 'write permission on the queue and read',
  BasicConsume: 'read',
  BasicGet: 'read',
  QueuePurge: 'read',
};

/**
 * A channel error (the broker closing a channel on an operation it refused) as a
 * BrokerError, or undefined when the error is not one: 403 ACCESS_REFUSED is a permission
 * the user lacks, 404 NOT_FOUND a queue that is not there, 405 RESOURCE_LOCKED an
 * exclusive queue of another connection.
 */
export function channelError(err: unknown, doing?: string): BrokerError | undefined {
  const { message } = (err ?? {}) as ErrorLike;
  const text = typeof message === 'string' ? message : String(err);
  const prefix = doing === undefined ? '' : `${doing}: `;
  const operation = /Operation failed: (\w+);/.exec(text)?.[1];
  const refused = /ACCESS[-_]REFUSED - ([^"\n]+)/.exec(text)?.[1];
  // A 403 while logging in (the AMQP handshake) is about the credentials, not permissions.
  if (refused !== undefined && !/Handshake terminated|Login was refused/.test(text)) {
    // A refused publish closes the channel without naming the operation: only publishing
    // needs access to an exchange without one.
    const permission =
      operation === undefined ? (/to exchange/.test(refused) ? 'write' : undefined) : PERMISSION_OF[operation];
    let detail = '';
    if (permission !== undefined) {
      const advice =
        permission === 'configure' ? '; a user without it can run with AMQP_TOPOLOGY=check once the queues exist' : '';
      const what =
        operation === 'QueueBind' || operation === 'QueueUnbind'
          ? `${permission} permission on the exchange`
          : `${permission} permission`;
      detail = ` (${operation ?? 'publishing'} needs ${what}${advice})`;
    }
    return new BrokerError('PERMISSION_DENIED', `${prefix}the broker refused: ${refused}${detail}`, { cause: err });
  }
  const notFound = /NOT[-_]FOUND - ([^"\n]+)/.exec(text)?.[1];
  if (notFound !== undefined) {
    return new BrokerError('TOPOLOGY_MISMATCH', `${prefix}the broker says: ${notFound}`, { cause: err });
  }
  const locked = /RESOURCE[-_]LOCKED - ([^"\n]+)/.exec(text)?.[1];
  if (locked !== undefined) {
    return new BrokerError('TOPOLOGY_MISMATCH', `${prefix}the broker says: ${locked}`, { cause: err });
  }
  return undefined;
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

  if (typeof code === 'string') {
    const tls = tlsError(err, code, text, endpoint);
    if (tls !== undefined) return tls;
  }
  switch (code) {
    case 'ECONNREFUSED':
      return new BrokerError(
        'BROKER_UNREACHABLE',
        `cannot reach the broker at ${where}: connection refused (is RabbitMQ running?)`,
        { cause: err },
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new BrokerError('BROKER_UNREACHABLE', `cannot reach the broker: host '${endpoint.host}' not found`, {
        cause: err,
      });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new BrokerError('BROKER_UNREACHABLE', `cannot reach the broker at ${where}: no route to host`, {
        cause: err,
      });
    case 'ETIMEDOUT':
      return new BrokerError('CONNECT_TIMEOUT', `cannot reach the broker at ${where}: no answer in time`, {
        cause: err,
      });
    case 'ECONNRESET':
    case 'EPIPE':
      return new BrokerError(
        'HANDSHAKE_FAILED',
        `the broker at ${where} closed the connection during the AMQP handshake (is it an AMQP 0-9-1 port?)`,
        { cause: err },
      );
    default:
      break;
  }
  // A 403 on a channel is a permission; on the handshake, the login.
  const onChannel = channelError(err);
  if (onChannel !== undefined) return onChannel;
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
      `the broker at ${where} refused vhost '${endpoint.vhost}' for user '${endpoint.user}': ` +
        'it does not exist or the user has no access',
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
    return new BrokerError(
      'BROKER_UNREACHABLE',
      `the broker at ${where} closed the connection during start-up (is it restarting?)`,
      {
        cause: err,
      },
    );
  }
  if (/ETIMEDOUT|timed? ?out/i.test(text)) {
    return new BrokerError('CONNECT_TIMEOUT', `cannot reach the broker at ${where}: no answer in time`, { cause: err });
  }
  const firstLine = scrubSecret(text, endpoint.password).split('\n')[0] ?? '';
  return new BrokerError('BROKER_ERROR', `broker at ${where}: ${firstLine}`, { cause: err });
}
