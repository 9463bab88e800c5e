import type { BrokerConfig } from 'rascal';
import { describe, expect, it } from 'vitest';
import { contractTopology, topologyFromRascal } from './contract-topology.js';

describe('contractTopology', () => {
  it("reads the contract's queues with their declare options, and which the apps adopt", () => {
    const topology = contractTopology('/');
    expect(topology.exchanges).toEqual([]);
    expect(topology.bindings).toEqual([]);
    // Tutorials 3 to 5's exchanges: declared by the apps when they use them.
    expect(topology.onDemandExchanges).toEqual([
      { name: 'logs', type: 'fanout', durable: false, autoDelete: false, internal: false, arguments: {}, adoptExisting: true },
      { name: 'direct_logs', type: 'direct', durable: false, autoDelete: false, internal: false, arguments: {}, adoptExisting: true },
      { name: 'topic_logs', type: 'topic', durable: false, autoDelete: false, internal: false, arguments: {}, adoptExisting: true },
    ]);
    expect(topology.queues.map((q) => q.name).sort()).toEqual([
      'hello',
      'hello.dlq',
      'rpc_queue',
      'rpc_queue.dlq',
      'task_queue',
      'task_queue.dlq',
      'task_queue.retry.1',
      'task_queue.retry.2',
      'task_queue.retry.3',
    ]);
    expect(topology.queues.find((q) => q.name === 'hello')).toEqual({
      name: 'hello',
      type: 'classic',
      durable: false,
      exclusive: false,
      autoDelete: false,
      arguments: {},
      adoptExisting: true,
    });
    expect(topology.queues.find((q) => q.name === 'task_queue.retry.2')).toEqual({
      name: 'task_queue.retry.2',
      type: 'quorum',
      durable: true,
      exclusive: false,
      autoDelete: false,
      arguments: {
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': 'task_queue',
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      },
      adoptExisting: true,
      // Adopted or not, it must still dead-letter back to task_queue.
      requiredArguments: ['x-dead-letter-exchange', 'x-dead-letter-routing-key'],
    });
  });
});

describe('topologyFromRascal', () => {
  it("applies Rascal's and amqplib's defaults and reads every form of exchanges and bindings", () => {
    const config: BrokerConfig = {
      vhosts: {
        v: {
          queues: ['plain', { name: 'short', options: { messageTtl: 1000, deadLetterExchange: 'dlx', durable: false } }],
          exchanges: {
            '': {},
            'amq.topic': {},
            events: { type: 'fanout', options: { alternateExchange: 'lost', arguments: { 'x-foo': 1 } } },
            orders: {},
          },
          bindings: {
            'orders[a.*, b.#] -> plain': {},
            byObject: { source: 'events', destination: 'orders', destinationType: 'exchange', bindingKey: 'x', options: { 'x-match': 'all' } },
            'orders -> short': {},
          },
        },
      },
    };
    const topology = topologyFromRascal(config, 'v', new Set(['plain']));
    expect(topology.queues).toEqual([
      { name: 'plain', type: 'classic', durable: true, exclusive: false, autoDelete: false, arguments: {}, adoptExisting: true },
      {
        name: 'short',
        type: 'classic',
        durable: false,
        exclusive: false,
        autoDelete: false,
        arguments: { 'x-message-ttl': 1000, 'x-dead-letter-exchange': 'dlx' },
        adoptExisting: false,
      },
    ]);
    expect(topology.exchanges).toEqual([
      { name: 'events', type: 'fanout', durable: true, autoDelete: false, internal: false, arguments: { 'x-foo': 1, 'alternate-exchange': 'lost' } },
      { name: 'orders', type: 'topic', durable: true, autoDelete: false, internal: false, arguments: {} },
    ]);
    expect(topology.bindings).toEqual([
      { source: 'orders', destination: 'plain', destinationType: 'queue', routingKey: 'a.*', arguments: {} },
      { source: 'orders', destination: 'plain', destinationType: 'queue', routingKey: 'b.#', arguments: {} },
      { source: 'events', destination: 'orders', destinationType: 'exchange', routingKey: 'x', arguments: { 'x-match': 'all' } },
      { source: 'orders', destination: 'short', destinationType: 'queue', routingKey: '#', arguments: {} },
    ]);
  });

  it('finds nothing for a vhost the configuration does not have', () => {
    expect(topologyFromRascal({ vhosts: {} }, 'v')).toEqual({ queues: [], exchanges: [], bindings: [] });
  });
});
