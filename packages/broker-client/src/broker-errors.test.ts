import { describe, expect, it } from 'vitest';
import { parseAmqpUrl } from './amqp-url.js';
import { toBrokerError } from './broker-errors.js';
import { BrokerError } from './errors.js';
import { ExitCode } from './exit-codes.js';

const parsed = parseAmqpUrl('amqp://app:s3cret@broker.example:5672/orders');
if (!parsed.ok) throw new Error(parsed.reason);
const endpoint = parsed.endpoint;

const error = (message: string, code?: string) => Object.assign(new Error(message), code === undefined ? {} : { code });

describe('toBrokerError', () => {
  it.each([
    [error('connect ECONNREFUSED 10.0.0.1:5672', 'ECONNREFUSED'), 'BROKER_UNREACHABLE', ExitCode.unavailable, /connection refused/],
    [error('getaddrinfo ENOTFOUND broker.example', 'ENOTFOUND'), 'BROKER_UNREACHABLE', ExitCode.unavailable, /host 'broker.example' not found/],
    [error('connect ETIMEDOUT', 'ETIMEDOUT'), 'CONNECT_TIMEOUT', ExitCode.unavailable, /no answer/],
    [
      error('Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused"'),
      'ACCESS_REFUSED',
      ExitCode.noPermission,
      /refused the login of user 'app': wrong username or password/,
    ],
    [error('Expected ConnectionOpenOk; got <ConnectionClose channel:0>'), 'VHOST_NOT_FOUND', ExitCode.noPermission, /vhost 'orders'/],
    [error('Frame size 1345270062 exceeds maxFrameSize 67108864'), 'HANDSHAKE_FAILED', ExitCode.unavailable, /AMQP handshake/],
    [error('Socket closed abruptly during opening handshake'), 'HANDSHAKE_FAILED', ExitCode.unavailable, /AMQP handshake/],
    [error('Channel ended, no reply will be forthcoming'), 'BROKER_UNREACHABLE', ExitCode.unavailable, /closed the connection during start-up/],
    [
      error('Connection closed: 320 (CONNECTION-FORCED) with message "CONNECTION_FORCED - broker forced connection closure with reason \'shutdown\'"'),
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
