import { afterEach, describe, expect, it } from 'vitest';
import { brokerUrl, redacted, requireBroker } from './broker.js';

describe('brokerUrl', () => {
  const saved = process.env.AMQP_URL;
  afterEach(() => {
    if (saved === undefined) delete process.env.AMQP_URL;
    else process.env.AMQP_URL = saved;
  });

  it('is AMQP_URL, or the local default', () => {
    process.env.AMQP_URL = 'amqp://u:p@h:1/v';
    expect(brokerUrl()).toBe('amqp://u:p@h:1/v');
    process.env.AMQP_URL = '';
    expect(brokerUrl()).toBe('amqp://guest:guest@localhost:5672');
  });
});

describe('requireBroker', () => {
  it('fails with what to do, never the password, when no broker answers', async () => {
    await expect(requireBroker('amqp://guest:s3cret@127.0.0.1:1')).rejects.toThrow(
      /need a RabbitMQ broker at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1 .*pnpm broker:up/,
    );
  });

  it('hides the password', () => {
    expect(redacted('amqp://guest:s3cret@h:5672/v')).toBe('amqp://guest:***@h:5672/v');
  });
});
