import { describe, expect, it } from 'vitest';
import {
  appRights,
  consumerCommands,
  DEFAULT_EXCHANGE_RESOURCE,
  exportDefinitions,
  permissionPattern,
  producerCommands,
  SERVER_NAMED_QUEUE_PREFIX,
} from './definitions.js';
import { exchanges } from './exchanges.js';
import { queues, subscriptions } from './topology.js';

/** RabbitMQ matches a permission pattern against the whole resource name, as this does. */
const allows = (pattern: string, name: string) => new RegExp(pattern).test(name);

describe('appRights', () => {
  it('lets the producer only write: to the default exchange and the exchanges of tutorials 3 to 5', () => {
    // RPC replies come through direct reply-to, which needs no read permission.
    expect(appRights().producer).toEqual({
      configure: [],
      write: ['amq.default', 'direct_logs', 'logs', 'topic_logs'],
      read: [],
    });
  });

  // It may configure only the queues the broker names for it.
  it('lets the consumer read the queues it subscribes to, write its retries, dead letters and RPC replies', () => {
    const { consumer } = appRights();
    const own = { prefix: SERVER_NAMED_QUEUE_PREFIX };
    expect(consumer.configure).toEqual([own]);
    expect(consumer.write).toEqual(['amq.default', own]);
    expect(consumer.read).toEqual([
      ...[...Object.values(subscriptions).map((s) => s.queue), 'logs', 'direct_logs', 'topic_logs'].sort(),
      own,
    ]);
    expect(consumer.read).toEqual(expect.arrayContaining(['hello', 'task_queue', 'rpc_queue']));
    // Dead letters are for operators; retry queues give their messages back by themselves.
    for (const subscription of Object.values(subscriptions)) {
      for (const name of [subscription.deadLetterQueue, ...subscription.retryQueues])
        expect(consumer.read).not.toContain(name);
    }
  });
});

describe('permissionPattern', () => {
  it('matches nothing for no names', () => {
    expect(permissionPattern([])).toBe('^$');
    for (const name of ['hello', 'amq.default', 'x']) expect(allows('^$', name)).toBe(false);
  });

  it('matches exactly the names given, dots and all', () => {
    const pattern = permissionPattern(['task_queue', 'hello']);
    expect(pattern).toBe('^(hello|task_queue)$');
    for (const name of ['hello', 'task_queue']) expect(allows(pattern, name)).toBe(true);
    for (const name of ['hello.dlq', 'task_queue.retry.1', 'task_queue.dlq', 'xhello', 'hello2', '']) {
      expect(allows(pattern, name), name).toBe(false);
    }
    const dotted = permissionPattern([DEFAULT_EXCHANGE_RESOURCE]);
    expect(dotted).toBe('^amq\\.default$');
    expect(allows(dotted, 'amq.default')).toBe(true);
    expect(allows(dotted, 'amqxdefault')).toBe(false);
    expect(allows(dotted, 'amq.direct')).toBe(false);
  });

  it('matches every name that starts with a prefix, and only those', () => {
    const pattern = permissionPattern([{ prefix: 'amq.gen-' }, 'amq.default']);
    expect(pattern).toBe('^(amq\\.default|amq\\.gen-.*)$');
    for (const name of ['amq.default', 'amq.gen-JzTY20BRgKO-HjmUJj0wLg', 'amq.gen-'])
      expect(allows(pattern, name), name).toBe(true);
    for (const name of ['amq.gen', 'amqxgen-x', 'xamq.gen-x', 'amq.direct', 'hello'])
      expect(allows(pattern, name), name).toBe(false);
  });

  it('lists each resource once, whatever the order it is given in', () => {
    expect(permissionPattern(['b', { prefix: 'p' }, 'a', 'b', { prefix: 'p' }])).toBe(
      permissionPattern([{ prefix: 'p' }, 'a', 'b']),
    );
  });
});

describe('exportDefinitions', () => {
  const definitions = exportDefinitions({ vhost: 'orders', producerUser: 'p', consumerUser: 'c' });

  it('declares the vhost and every queue of the contract, with its options as the apps declare it', () => {
    expect(definitions.vhosts).toEqual([{ name: 'orders' }]);
    expect(definitions.queues.map((q) => q.name).sort()).toEqual(Object.keys(queues).sort());
    expect(definitions.queues.find((q) => q.name === 'hello')).toEqual({
      name: 'hello',
      vhost: 'orders',
      durable: false,
      auto_delete: false,
      arguments: {},
    });
    expect(definitions.queues.find((q) => q.name === 'task_queue.retry.1')).toEqual({
      name: 'task_queue.retry.1',
      vhost: 'orders',
      durable: true,
      auto_delete: false,
      arguments: queues['task_queue.retry.1'].options.arguments,
    });
    expect(definitions.bindings).toEqual([]);
  });

  it('declares the exchanges of tutorials 3 to 5 as the apps declare them', () => {
    expect(definitions.exchanges).toEqual([
      {
        name: 'logs',
        vhost: 'orders',
        type: 'fanout',
        durable: false,
        auto_delete: false,
        internal: false,
        arguments: {},
      },
      {
        name: 'direct_logs',
        vhost: 'orders',
        type: 'direct',
        durable: false,
        auto_delete: false,
        internal: false,
        arguments: {},
      },
      {
        name: 'topic_logs',
        vhost: 'orders',
        type: 'topic',
        durable: false,
        auto_delete: false,
        internal: false,
        arguments: {},
      },
    ]);
    expect(definitions.exchanges.map((e) => e.name)).toEqual(Object.keys(exchanges));
  });

  it("gives each app's user its least privileges on that vhost", () => {
    expect(definitions.permissions).toEqual([
      {
        user: 'p',
        vhost: 'orders',
        configure: '^$',
        write: '^(amq\\.default|direct_logs|logs|topic_logs)$',
        read: '^$',
      },
      {
        user: 'c',
        vhost: 'orders',
        configure: '^amq\\.gen-.*$',
        write: '^(amq\\.default|amq\\.gen-.*)$',
        read: '^(direct_logs|hello|logs|rpc_queue|task_queue|topic_logs|amq\\.gen-.*)$',
      },
    ]);
    const [producer, consumer] = definitions.permissions;
    const may = (permission: 'configure' | 'write' | 'read', who: typeof producer, name: string) =>
      allows(who?.[permission] ?? '^$', name);
    // The producer publishes to hello, task_queue and rpc_queue (default exchange) and to the log exchanges.
    for (const name of ['amq.default', 'logs', 'direct_logs', 'topic_logs'])
      expect(may('write', producer, name), name).toBe(true);
    for (const name of ['amq.fanout', 'amq.topic', 'hello', 'amq.gen-x'])
      expect(may('write', producer, name), name).toBe(false);
    // The consumer reads its subscriptions' queues, binds its own queues to the log exchanges, and nothing else.
    for (const name of ['hello', 'task_queue', 'rpc_queue', 'logs', 'direct_logs', 'topic_logs', 'amq.gen-Xyz']) {
      expect(may('read', consumer, name), name).toBe(true);
    }
    for (const name of [
      'hello.dlq',
      'task_queue.dlq',
      'task_queue.retry.1',
      'rpc_queue.dlq',
      'amq.default',
      'amq.fanout',
      'amq.rabbitmq.trace',
    ]) {
      expect(may('read', consumer, name), name).toBe(false);
    }
    for (const name of ['logs', 'direct_logs', 'topic_logs', 'hello'])
      expect(may('write', consumer, name), name).toBe(false);
    for (const name of ['hello', 'task_queue', 'rpc_queue', 'logs', 'mine'])
      expect(may('configure', consumer, name), name).toBe(false);
    expect(may('configure', consumer, 'amq.gen-Xyz')).toBe(true);
  });

  it('holds no users, so importing it never resets a password', () => {
    expect(definitions).not.toHaveProperty('users');
  });

  it('defaults to vhost / and the users producer and consumer', () => {
    const d = exportDefinitions();
    expect(d.vhosts).toEqual([{ name: '/' }]);
    expect(d.permissions.map((p) => [p.user, p.vhost])).toEqual([
      ['producer', '/'],
      ['consumer', '/'],
    ]);
  });

  it('refuses one user for both apps', () => {
    expect(() => exportDefinitions({ producerUser: 'app', consumerUser: 'app' })).toThrow(/users of their own/);
  });
});

describe('exportDefinitions for some commands only', () => {
  const own = { prefix: SERVER_NAMED_QUEUE_PREFIX };
  const queueNames = (d: ReturnType<typeof exportDefinitions>) => d.queues.map((q) => q.name);
  const exchangeNames = (d: ReturnType<typeof exportDefinitions>) => d.exchanges.map((e) => e.name);

  it('covers a Hello World send: the queue hello alone, a producer that writes to the default exchange only', () => {
    const d = exportDefinitions({ vhost: 'v', producerTo: ['hello'] });
    expect(queueNames(d)).toEqual(['hello']);
    expect(d.queues[0]).toEqual({ name: 'hello', vhost: 'v', durable: false, auto_delete: false, arguments: {} });
    expect(d.exchanges).toEqual([]);
    expect(d.permissions).toEqual([
      { user: 'producer', vhost: 'v', configure: '^$', write: '^amq\\.default$', read: '^$' },
    ]);
    expect(appRights({ producerTo: ['hello'] })).toEqual({
      producer: { configure: [], write: ['amq.default'], read: [] },
      consumer: { configure: [], write: [], read: [] },
    });
  });

  it('covers a send to task_queue with that queue alone', () => {
    const d = exportDefinitions({ producerTo: ['task_queue'] });
    expect(queueNames(d)).toEqual(['task_queue']);
    expect(d.permissions.map((p) => [p.user, p.write])).toEqual([['producer', '^amq\\.default$']]);
  });

  it('covers a publisher to an exchange with that exchange alone, and no default exchange', () => {
    for (const exchange of ['logs', 'direct_logs', 'topic_logs'] as const) {
      const d = exportDefinitions({ producerTo: [exchange] });
      expect(queueNames(d), exchange).toEqual([]);
      expect(exchangeNames(d), exchange).toEqual([exchange]);
      expect(d.exchanges[0]).toMatchObject({ name: exchange, type: exchanges[exchange].type, durable: false });
      expect(d.permissions, exchange).toEqual([
        { user: 'producer', vhost: '/', configure: '^$', write: `^${exchange}$`, read: '^$' },
      ]);
    }
  });

  // It writes its requests to the default exchange and reads its replies through direct reply-to.
  it('covers the RPC client with no queue at all', () => {
    const d = exportDefinitions({ producerTo: ['rpc_queue'] });
    expect(d.queues).toEqual([]);
    expect(d.exchanges).toEqual([]);
    expect(d.permissions).toEqual([
      { user: 'producer', vhost: '/', configure: '^$', write: '^amq\\.default$', read: '^$' },
    ]);
  });

  it('covers the Hello World receiver: hello and its dead-letter queue, a consumer that reads hello alone', () => {
    const d = exportDefinitions({ consumerFrom: ['hello'] });
    expect(queueNames(d)).toEqual(['hello', 'hello.dlq']);
    expect(d.exchanges).toEqual([]);
    expect(d.permissions).toEqual([
      { user: 'consumer', vhost: '/', configure: '^$', write: '^amq\\.default$', read: '^hello$' },
    ]);
  });

  it('covers the worker: task_queue, its retry and dead-letter queues, a consumer reading task_queue alone', () => {
    const d = exportDefinitions({ vhost: 'w', consumerUser: 'worker', consumerFrom: ['task_queue'] });
    expect(queueNames(d)).toEqual([
      'task_queue',
      'task_queue.dlq',
      'task_queue.retry.1',
      'task_queue.retry.2',
      'task_queue.retry.3',
    ]);
    expect(d.queues.find((q) => q.name === 'task_queue.retry.2')?.arguments).toEqual(
      queues['task_queue.retry.2'].options.arguments,
    );
    expect(d.exchanges).toEqual([]);
    // Retries and dead letters go through the default exchange; it consumes only its subscription's queue.
    expect(d.permissions).toEqual([
      { user: 'worker', vhost: 'w', configure: '^$', write: '^amq\\.default$', read: '^task_queue$' },
    ]);
    const [worker] = d.permissions;
    for (const name of ['task_queue.dlq', 'task_queue.retry.1', 'hello', 'rpc_queue', 'amq.gen-x'])
      expect(allows(worker?.read ?? '^$', name), name).toBe(false);
  });

  it('covers the RPC server: rpc_queue and its dead-letter queue, a consumer that reads rpc_queue alone', () => {
    const d = exportDefinitions({ consumerFrom: ['rpc_queue'] });
    expect(queueNames(d)).toEqual(['rpc_queue', 'rpc_queue.dlq']);
    expect(d.permissions).toEqual([
      { user: 'consumer', vhost: '/', configure: '^$', write: '^amq\\.default$', read: '^rpc_queue$' },
    ]);
  });

  it('covers an exchange subscriber with that exchange and its own server-named queue, and no default exchange', () => {
    const d = exportDefinitions({ consumerFrom: ['topic_logs'] });
    expect(d.queues).toEqual([]);
    expect(exchangeNames(d)).toEqual(['topic_logs']);
    expect(d.permissions).toEqual([
      {
        user: 'consumer',
        vhost: '/',
        configure: '^amq\\.gen-.*$',
        write: '^amq\\.gen-.*$',
        read: '^(topic_logs|amq\\.gen-.*)$',
      },
    ]);
    expect(appRights({ consumerFrom: ['topic_logs'] }).consumer).toEqual({
      configure: [own],
      write: [own],
      read: ['topic_logs', own],
    });
  });

  it('covers several commands: the union of what each uses, each queue and exchange once, in contract order', () => {
    const d = exportDefinitions({
      producerTo: ['logs', 'hello', 'hello', 'rpc_queue'],
      consumerFrom: ['hello', 'logs', 'rpc_queue'],
    });
    expect(queueNames(d)).toEqual(['hello', 'hello.dlq', 'rpc_queue', 'rpc_queue.dlq']);
    expect(exchangeNames(d)).toEqual(['logs']);
    expect(d.permissions).toEqual([
      { user: 'producer', vhost: '/', configure: '^$', write: '^(amq\\.default|logs)$', read: '^$' },
      {
        user: 'consumer',
        vhost: '/',
        configure: '^amq\\.gen-.*$',
        write: '^(amq\\.default|amq\\.gen-.*)$',
        read: '^(hello|logs|rpc_queue|amq\\.gen-.*)$',
      },
    ]);
  });

  it('covers every command when each is named, as the whole contract does', () => {
    const d = exportDefinitions({ producerTo: producerCommands, consumerFrom: consumerCommands });
    expect(d).toEqual(exportDefinitions());
    expect(producerCommands).toEqual(['hello', 'task_queue', 'rpc_queue', 'logs', 'direct_logs', 'topic_logs']);
    expect(consumerCommands).toEqual(['hello', 'task_queue', 'rpc_queue', 'logs', 'direct_logs', 'topic_logs']);
  });

  it('covers the whole contract and both apps when no command is named, as before', () => {
    const d = exportDefinitions();
    expect(queueNames(d)).toEqual(Object.keys(queues));
    expect(exchangeNames(d)).toEqual(Object.keys(exchanges));
    expect(d.permissions).toEqual([
      {
        user: 'producer',
        vhost: '/',
        configure: '^$',
        write: '^(amq\\.default|direct_logs|logs|topic_logs)$',
        read: '^$',
      },
      {
        user: 'consumer',
        vhost: '/',
        configure: '^amq\\.gen-.*$',
        write: '^(amq\\.default|amq\\.gen-.*)$',
        read: '^(direct_logs|hello|logs|rpc_queue|task_queue|topic_logs|amq\\.gen-.*)$',
      },
    ]);
    expect(appRights({})).toEqual(appRights());
  });

  it('lets one user stand for an app not covered, and still refuses one user for both apps when both are', () => {
    expect(
      exportDefinitions({ producerUser: 'app', consumerUser: 'app', producerTo: ['hello'] }).permissions.map(
        (p) => p.user,
      ),
    ).toEqual(['app']);
    expect(
      exportDefinitions({ producerUser: 'app', consumerUser: 'app', consumerFrom: ['hello'] }).permissions.map(
        (p) => p.user,
      ),
    ).toEqual(['app']);
    expect(() =>
      exportDefinitions({ producerUser: 'app', consumerUser: 'app', producerTo: ['hello'], consumerFrom: ['hello'] }),
    ).toThrow(/users of their own/);
  });

  it('refuses an unknown command in one line naming the known ones', () => {
    // A name the types refuse can still come from a command line or a file.
    const producerTo = ['hello', 'goodbye'] as unknown as readonly 'hello'[];
    expect(() => exportDefinitions({ producerTo })).toThrow(
      'producerTo: unknown producer command "goodbye" ' +
        '(one of: hello, task_queue, rpc_queue, logs, direct_logs, topic_logs)',
    );
    // A queue the consumer never subscribes to is no consumer command, nor a dead-letter queue.
    const consumerFrom = ['task_queue.dlq'] as unknown as readonly 'hello'[];
    expect(() => appRights({ consumerFrom })).toThrow(
      'consumerFrom: unknown consumer command "task_queue.dlq" ' +
        '(one of: hello, task_queue, rpc_queue, logs, direct_logs, topic_logs)',
    );
    const multiline = ['a\nb'] as unknown as readonly 'hello'[];
    expect(() => exportDefinitions({ consumerFrom: multiline })).toThrow(/^[^\n]+$/);
    // Inherited names are no commands either.
    const inherited = ['toString'] as unknown as readonly 'hello'[];
    expect(() => exportDefinitions({ producerTo: inherited })).toThrow(/unknown producer command "toString"/);
  });

  it('refuses to cover no command at all rather than export nothing', () => {
    expect(() => exportDefinitions({ producerTo: [] })).toThrow(/no command to cover/);
    expect(() => exportDefinitions({ producerTo: [], consumerFrom: [] })).toThrow(/no command to cover/);
    expect(exportDefinitions({ producerTo: [], consumerFrom: ['hello'] }).permissions.map((p) => p.user)).toEqual([
      'consumer',
    ]);
  });
});
