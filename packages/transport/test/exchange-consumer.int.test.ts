import { ctl, eventually, LOG_EXCHANGES, useTestVhost, withChannel } from '@hello-rabbit/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  startExchangeConsumer,
  type ExchangeDeliveryContext,
  type RunningExchangeConsumer,
} from '../src/exchange-consumer.js';
import { openBroker } from '../src/open-broker.js';
import type { Broker } from '../src/rascal-adapter.js';
import { endpointOf, memoryLogger } from './helpers.js';

const vhost = useTestVhost('exchange-consumer', { exchanges: LOG_EXCHANGES });
let broker: Broker | undefined;
let consumer: RunningExchangeConsumer | undefined;

afterEach(async () => {
  await consumer?.stop();
  await broker?.shutdown();
  consumer = undefined;
  broker = undefined;
});

/** The metric events the consumer records, as `<event> <label>`. */
function recordingMetrics() {
  const events: string[] = [];
  return {
    events,
    metrics: {
      messageDelivered: (label: string) => events.push(`delivered ${label}`),
      messageAcked: (label: string) => events.push(`acked ${label}`),
      observeHandlerDuration: (label: string, _seconds: number, outcome: string) => events.push(`${outcome} ${label}`),
      observeEndToEndLatency: (label: string) => events.push(`latency ${label}`),
      trackInFlight: () => {
        events.push('trackInFlight');
        return () => undefined;
      },
    },
  };
}

/** Subscribes to direct_logs with `keys`, recording every line; `fail` lines make the handler throw. */
async function subscribe(keys: readonly string[], metrics?: ReturnType<typeof recordingMetrics>['metrics']) {
  const handled: { line: string; context: ExchangeDeliveryContext }[] = [];
  const log = memoryLogger();
  broker = await openBroker({ endpoint: endpointOf(vhost.url), connectionName: 'test' }, memoryLogger().logger);
  consumer = await startExchangeConsumer(
    broker,
    'direct_logs',
    (line, context) => {
      handled.push({ line, context });
      if (line === 'fail') throw new Error('this line fails');
    },
    { logger: log.logger, bindingKeys: keys, metrics },
  );
  return { handled, lines: log.lines };
}

const vhostName = () => decodeURIComponent(new URL(vhost.url).pathname.slice(1));

/**
 * A queue of the vhost as rabbitmqctl lists it (another connection cannot look into an
 * exclusive queue: the broker answers RESOURCE_LOCKED).
 */
async function listed(queue: string): Promise<{ messages: number; consumers: number } | undefined> {
  const out = await ctl(
    'list_queues',
    '-p',
    vhostName(),
    '--no-table-headers',
    '--quiet',
    'name',
    'messages',
    'consumers',
  );
  for (const line of out.split('\n')) {
    const [name, messages, consumers] = line.trim().split(/\s+/);
    if (name === queue) return { messages: Number(messages), consumers: Number(consumers) };
  }
  return undefined;
}

const emit = (routingKey: string, ...bodies: (string | Buffer)[]) =>
  withChannel(vhost.url, async (channel) => {
    for (const body of bodies)
      channel.publish('direct_logs', routingKey, typeof body === 'string' ? Buffer.from(body) : body, {
        messageId: `m-${String(body)}`,
      });
    await channel.close();
  });

describe('startExchangeConsumer', () => {
  // The queue is named by the broker and bound with its keys.
  it('consumes a queue of its own: the lines routed to it, with their key', async () => {
    const { handled } = await subscribe(['info', 'error']);
    expect(consumer?.queue).toMatch(/^amq\.gen-/);
    await emit('warning', 'not for us');
    await emit('error', 'Run.');
    await emit('info', 'all is well');
    await eventually(() => handled.length === 2);
    expect(handled).toEqual([
      { line: 'Run.', context: { exchange: 'direct_logs', routingKey: 'error', messageId: 'm-Run.' } },
      { line: 'all is well', context: { exchange: 'direct_logs', routingKey: 'info', messageId: 'm-all is well' } },
    ]);
  });

  it('drops (logs, acks) a line the contract refuses and one whose handler fails, no retry, and goes on', async () => {
    const { events, metrics } = recordingMetrics();
    const { handled, lines } = await subscribe(['info'], metrics);
    await emit('info', Buffer.from([0xff, 0xfe]), 'fail', 'after');
    await eventually(() => handled.some((h) => h.line === 'after'));
    expect(handled.map((h) => h.line)).toEqual(['fail', 'after']);
    expect(lines.join('\n')).toMatch(/invalid message dropped \(a subscriber queue has no dead-letter queue\)/);
    expect(lines.join('\n')).toMatch(/handler failed; the message is dropped/);
    // Nothing left unacked in its queue.
    const queue = consumer?.queue ?? '';
    await eventually(async () => (await listed(queue))?.messages === 0);
    // Counted under the exchange's name; not in the in-flight gauge.
    expect(events.filter((e) => e.startsWith('delivered'))).toEqual([
      'delivered direct_logs',
      'delivered direct_logs',
      'delivered direct_logs',
    ]);
    expect(events).toContain('failure direct_logs');
    expect(events.filter((e) => e.startsWith('acked'))).toEqual(['acked direct_logs']);
    expect(events).not.toContain('trackInFlight');
  });

  it('lets its queue go when stopped', async () => {
    await subscribe(['info']);
    const queue = consumer?.queue ?? '';
    expect(await listed(queue)).toEqual({ messages: 0, consumers: 1 });
    await consumer?.stop();
    consumer = undefined;
    await eventually(async () => (await listed(queue)) === undefined);
  });

  it('after a lost connection, subscribes again with a new queue and its bindings', async () => {
    const { handled, lines } = await subscribe(['error']);
    const first = consumer?.queue;
    await ctl('close_all_connections', '--vhost', vhostName(), 'test: connection lost');
    await eventually(() => consumer?.queue !== undefined && consumer.queue !== first, 45_000, 'a new queue');
    await emit('error', 'after the reconnect');
    await eventually(() => handled.some((h) => h.line === 'after the reconnect'));
    expect(lines.join('\n')).toMatch(/subscription lost; subscribing again with a new queue/);
  });
});
