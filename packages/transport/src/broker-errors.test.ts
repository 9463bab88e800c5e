import { describe, expect, it } from 'vitest';
import { parseAmqpUrl, settingFile, type AmqpEndpoint } from '@hello-rabbit/runtime';
import { channelError, toBrokerError } from './broker-errors.js';
import { BrokerError } from './errors.js';
import { ExitCode } from '@hello-rabbit/runtime';

const parsed = parseAmqpUrl('amqp://app:s3cret@broker.example:5672/orders');
if (!parsed.ok) throw new Error(parsed.reason);
const endpoint = parsed.endpoint;

const error = (message: string, code?: string) => Object.assign(new Error(message), code === undefined ? {} : { code });

describe('toBrokerError', () => {
  it.each([
    [
      error('connect ECONNREFUSED 10.0.0.1:5672', 'ECONNREFUSED'),
      'BROKER_UNREACHABLE',
      ExitCode.unavailable,
      /connection refused/,
    ],
    [
      error('getaddrinfo ENOTFOUND broker.example', 'ENOTFOUND'),
      'BROKER_UNREACHABLE',
      ExitCode.unavailable,
      /host 'broker.example' not found/,
    ],
    [error('connect ETIMEDOUT', 'ETIMEDOUT'), 'CONNECT_TIMEOUT', ExitCode.unavailable, /no answer/],
    [
      error('Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused"'),
      'ACCESS_REFUSED',
      ExitCode.noPermission,
      /refused the login of user 'app': wrong username or password/,
    ],
    [
      error('Expected ConnectionOpenOk; got <ConnectionClose channel:0>'),
      'VHOST_NOT_FOUND',
      ExitCode.noPermission,
      /vhost 'orders'/,
    ],
    [
      error('Frame size 1345270062 exceeds maxFrameSize 67108864'),
      'HANDSHAKE_FAILED',
      ExitCode.unavailable,
      /AMQP handshake/,
    ],
    [
      error('Socket closed abruptly during opening handshake'),
      'HANDSHAKE_FAILED',
      ExitCode.unavailable,
      /AMQP handshake/,
    ],
    [
      error('Channel ended, no reply will be forthcoming'),
      'BROKER_UNREACHABLE',
      ExitCode.unavailable,
      /closed the connection during start-up/,
    ],
    [
      error(
        'Connection closed: 320 (CONNECTION-FORCED) with message ' +
          '"CONNECTION_FORCED - broker forced connection closure with reason \'shutdown\'"',
      ),
      'BROKER_UNREACHABLE',
      ExitCode.unavailable,
      /closed the connection during start-up/,
    ],
  ])('classifies %s', (cause, code, exitCode, message) => {
    const result = toBrokerError(cause, endpoint);
    expect(result).toBeInstanceOf(BrokerError);
    expect(result.code).toBe(code);
    expect(result.exitCode).toBe(exitCode);
    expect(result.message).toMatch(message);
    expect(result.message).not.toContain('\n');
    expect(result.cause).toBe(cause);
  });

  it('never repeats the password, whatever the library said', () => {
    const result = toBrokerError(error('Failed to connect to: amqp://app:s3cret@broker.example:5672/orders'), endpoint);
    expect(result.code).toBe('BROKER_ERROR');
    expect(result.message).not.toContain('s3cret');
  });
});

describe('toBrokerError, for TLS', () => {
  const tlsEndpoint = (url: string, tls?: AmqpEndpoint['tls']): AmqpEndpoint => {
    const p = parseAmqpUrl(url);
    if (!p.ok) throw new Error(p.reason);
    return { ...p.endpoint, tls };
  };
  const file = (path: string) => settingFile(path, Buffer.from('PEM'));
  const plain = tlsEndpoint('amqps://app:s3cret@broker.example:5671');
  const withCa = tlsEndpoint('amqps://app:s3cret@broker.example:5671', { ca: file('/etc/ca.pem') });
  const byIp = tlsEndpoint('amqps://app:s3cret@10.0.0.1:5671', { ca: file('/etc/ca.pem') });
  const withCert = tlsEndpoint('amqps://app:s3cret@broker.example:5671', {
    cert: file('/etc/client.pem'),
    key: file('/etc/client.key'),
  });

  it.each([
    [
      'the default trust store, a private CA',
      error('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'),
      plain,
      new RegExp(
        /^TLS: the broker's certificate at broker\.example:5671 is not trusted /.source +
          /\(self-signed certificate in certificate chain\): /.source +
          /set AMQP_TLS_CA_FILE to the certificate of the CA that signed it$/.source,
      ),
    ],
    [
      'the wrong CA',
      error('unable to get local issuer certificate', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'),
      withCa,
      new RegExp(
        /is not trusted \(unable to get local issuer certificate\): /.source +
          /it is not signed by the CA in AMQP_TLS_CA_FILE \(\/etc\/ca\.pem\)$/.source,
      ),
    ],
    [
      'a self-signed server',
      error('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT'),
      withCa,
      /is not trusted \(self-signed certificate\)/,
    ],
    [
      'an expired certificate',
      error('certificate has expired', 'CERT_HAS_EXPIRED'),
      withCa,
      /is not valid now \(certificate has expired\)/,
    ],
    [
      'a host name mismatch',
      Object.assign(
        error(
          "Hostname/IP does not match certificate's altnames: IP: 10.0.0.1 is not in the cert's list: ",
          'ERR_TLS_CERT_ALTNAME_INVALID',
        ),
        { reason: "IP: 10.0.0.1 is not in the cert's list: " },
      ),
      byIp,
      new RegExp(
        /^TLS: the broker's certificate at 10\.0\.0\.1:5671 does not name the host '10\.0\.0\.1' /.source +
          /\(IP: 10\.0\.0\.1 is not in the cert's list:\): /.source +
          /connect by a name it holds, or set AMQP_TLS_SERVERNAME to one$/.source,
      ),
    ],
    [
      'a missing client certificate',
      error(
        'C0:error:0A00045C:SSL routines:ssl3_read_bytes:' +
          'tlsv13 alert certificate required:rec_layer_s3.c:1601:SSL alert number 116\n',
        'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
      ),
      withCa,
      new RegExp(
        /^TLS: the broker at broker\.example:5671 requires a client certificate: /.source +
          /set AMQP_TLS_CERT_FILE and AMQP_TLS_KEY_FILE$/.source,
      ),
    ],
    [
      'a client certificate the broker does not trust',
      error(
        'C0:error:0A000418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca:..:SSL alert number 48\n',
        'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
      ),
      withCert,
      new RegExp(
        /^TLS: the broker at broker\.example:5671 refused our client certificate \(\/etc\/client\.pem\): /.source +
          /tlsv1 alert unknown ca$/.source,
      ),
    ],
  ])('says what to change for %s, exit code 77', (_, cause, where, message) => {
    const result = toBrokerError(cause, where);
    expect(result.code).toBe('TLS_ERROR');
    expect(result.exitCode).toBe(ExitCode.noPermission);
    expect(result.message).toMatch(message);
    expect(result.message).not.toContain('\n');
    expect(result.message).not.toContain('s3cret');
  });

  it('names AMQP_TLS_SERVERNAME when that is the name the certificate lacks', () => {
    const named = tlsEndpoint('amqps://app:pw@10.0.0.1:5671', { servername: 'broker.internal' });
    const result = toBrokerError(error('Hostname/IP does not match', 'ERR_TLS_CERT_ALTNAME_INVALID'), named);
    expect(result.message).toMatch(/does not name 'broker\.internal' \(AMQP_TLS_SERVERNAME\)/);
  });

  it('tells a port that does not speak TLS from a TLS failure', () => {
    const result = toBrokerError(error('wrong version number', 'ERR_SSL_WRONG_VERSION_NUMBER'), plain);
    expect(result.code).toBe('HANDSHAKE_FAILED');
    expect(result.message).toMatch(/does not speak TLS \(is 5671 its amqps:\/\/ port\?/);
  });
});

describe('toBrokerError and channelError, for permissions', () => {
  it('tells a refused login from a refused operation', () => {
    const login = toBrokerError(
      error(
        'Handshake terminated by server: 403 (ACCESS-REFUSED) with message ' +
          '"ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN."',
      ),
      endpoint,
    );
    expect(login.code).toBe('ACCESS_REFUSED');
    const declare = toBrokerError(
      error(
        `Operation failed: QueueDeclare; 403 (ACCESS-REFUSED) with message ` +
          `"ACCESS_REFUSED - access to queue 'hello' in vhost 'orders' refused for user 'app'"`,
      ),
      endpoint,
    );
    expect(declare.code).toBe('PERMISSION_DENIED');
    expect(declare.exitCode).toBe(ExitCode.noPermission);
    expect(declare.message).toBe(
      "the broker refused: access to queue 'hello' in vhost 'orders' refused for user 'app' " +
        '(QueueDeclare needs configure permission; ' +
        'a user without it can run with AMQP_TOPOLOGY=check once the queues exist)',
    );
  });

  it.each([
    [
      `Operation failed: BasicConsume; 403 (ACCESS-REFUSED) with message ` +
        `"ACCESS_REFUSED - access to queue 'hello' in vhost 'v' refused for user 'producer'"`,
      'PERMISSION_DENIED',
      "cannot consume queue 'hello': the broker refused: " +
        "access to queue 'hello' in vhost 'v' refused for user 'producer' (BasicConsume needs read permission)",
    ],
    [
      `Channel closed by server: 403 (ACCESS-REFUSED) with message ` +
        `"ACCESS_REFUSED - access to exchange 'amq.topic' in vhost 'v' refused for user 'producer'"`,
      'PERMISSION_DENIED',
      "cannot consume queue 'hello': the broker refused: " +
        "access to exchange 'amq.topic' in vhost 'v' refused for user 'producer' (publishing needs write permission)",
    ],
    [
      `Operation failed: QueueBind; 403 (ACCESS-REFUSED) with message ` +
        `"ACCESS_REFUSED - access to exchange 'logs' in vhost 'v' refused for user 'consumer'"`,
      'PERMISSION_DENIED',
      "cannot consume queue 'hello': the broker refused: " +
        "access to exchange 'logs' in vhost 'v' refused for user 'consumer' " +
        '(QueueBind needs write permission on the queue and read permission on the exchange)',
    ],
    [
      `Operation failed: BasicConsume; 404 (NOT-FOUND) with message "NOT_FOUND - no queue 'hello' in vhost 'v'"`,
      'TOPOLOGY_MISMATCH',
      "cannot consume queue 'hello': the broker says: no queue 'hello' in vhost 'v'",
    ],
  ])('classifies %s', (message, code, text) => {
    const result = channelError(error(message), "cannot consume queue 'hello'");
    expect(result?.code).toBe(code);
    expect(result?.message).toBe(text);
  });

  it('leaves other errors alone', () => {
    expect(channelError(error('Channel ended, no reply will be forthcoming'))).toBeUndefined();
    expect(
      channelError(
        error('Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused"'),
      ),
    ).toBeUndefined();
  });
});
