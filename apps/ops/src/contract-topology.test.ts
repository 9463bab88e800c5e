import { rascalTopology } from '@hello-rabbit/broker-config';
import { describe, expect, it } from 'vitest';
import { contractTopology } from './contract-topology.js';

describe('contractTopology', () => {
  it("reads the contract's queues with their declare options, and which the apps adopt", () => {
    const topology = contractTopology();
    expect(topology.exchanges).toEqual([]);
    expect(topology.bindings).toEqual([]);
    // Tutorials 3 to 5's exchanges: declared by the apps when they use them.
    expect(topology.onDemandExchanges).toEqual([
      {
        name: 'logs',
        type: 'fanout',
        durable: false,
        autoDelete: false,
        internal: false,
        arguments: {},
        adoptExisting: true,
      },
      {
        name: 'direct_logs',
        type: 'direct',
        durable: false,
        autoDelete: false,
        internal: false,
        arguments: {},
        adoptExisting: true,
      },
      {
        name: 'topic_logs',
        type: 'topic',
        durable: false,
        autoDelete: false,
        internal: false,
        arguments: {},
        adoptExisting: true,
      },
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

describe('contractTopology, against what the apps declare', () => {
  it('expects exactly the queues the transport declares (rascalTopology), with their options, in every vhost', () => {
    // Read through a narrow shape: the tool itself no longer reads Rascal's configuration.
    type Declared = {
      vhosts: Record<
        string,
        {
          queues: Record<
            string,
            {
              options: {
                durable: boolean;
                exclusive: boolean;
                autoDelete: boolean;
                arguments: Record<string, unknown>;
              };
            }
          >;
        }
      >;
    };
    for (const vhost of ['/', 'other']) {
      const declared = (rascalTopology({ vhost }) as unknown as Declared).vhosts[vhost]?.queues ?? {};
      const expected = contractTopology().queues;
      expect(expected.map((q) => q.name)).toEqual(Object.keys(declared));
      for (const queue of expected) {
        const options = declared[queue.name]?.options;
        expect({
          durable: queue.durable,
          exclusive: queue.exclusive,
          autoDelete: queue.autoDelete,
          arguments: { ...queue.arguments, 'x-queue-type': queue.type },
        }).toEqual({
          ...options,
          arguments: { 'x-queue-type': 'classic', ...options?.arguments },
        });
      }
    }
  });
});
