import { describe, expect, it } from 'vitest';
import { appRights, DEFAULT_EXCHANGE_RESOURCE, exportDefinitions, permissionPattern, SERVER_NAMED_QUEUE_PREFIX } from './definitions.js';
import { exchanges } from './exchanges.js';
import { queues, subscriptions } from './topology.js';

/** RabbitMQ matches a permission pattern against the whole resource name, as this does. */
const allows = (pattern: string, name: string) => new RegExp(pattern).test(name);

describe('appRights', () => {
  it('lets the producer write to the default exchange and the exchanges of tutorials 3 to 5 only, and configure and read nothing', () => {
    // RPC replies come through direct reply-to, which needs no read permission.
    expect(appRights().producer).toEqual({ configure: [], write: ['amq.default', 'direct_logs', 'logs', 'topic_logs'], read: [] });
  });

  it('lets the consumer read the queues it subscribes to, write its retries, dead letters and RPC replies, and configure only the queues the broker names for it', () => {
    const { consumer } = appRights();
    const own = { prefix: SERVER_NAMED_QUEUE_PREFIX };
    expect(consumer.configure).toEqual([own]);
    expect(consumer.write).toEqual(['amq.default', own]);
    expect(consumer.read).toEqual([...[...Object.values(subscriptions).map((s) => s.queue), 'logs', 'direct_logs', 'topic_logs'].sort(), own]);
    expect(consumer.read).toEqual(expect.arrayContaining(['hello', 'task_queue', 'rpc_queue']));
    // Dead letters are for operators; retry queues give their messages back by themselves.
    for (const subscription of Object.values(subscriptions)) {
      for (const name of [subscription.deadLetterQueue, ...subscription.retryQueues]) expect(consumer.read).not.toContain(name);
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
    for (const name of ['amq.default', 'amq.gen-JzTY20BRgKO-HjmUJj0wLg', 'amq.gen-']) expect(allows(pattern, name), name).toBe(true);
    for (const name of ['amq.gen', 'amqxgen-x', 'xamq.gen-x', 'amq.direct', 'hello']) expect(allows(pattern, name), name).toBe(false);
  });

  it('lists each resource once, whatever the order it is given in', () => {
    expect(permissionPattern(['b', { prefix: 'p' }, 'a', 'b', { prefix: 'p' }])).toBe(permissionPattern([{ prefix: 'p' }, 'a', 'b']));
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
      { name: 'logs', vhost: 'orders', type: 'fanout', durable: false, auto_delete: false, internal: false, arguments: {} },
      { name: 'direct_logs', vhost: 'orders', type: 'direct', durable: false, auto_delete: false, internal: false, arguments: {} },
      { name: 'topic_logs', vhost: 'orders', type: 'topic', durable: false, auto_delete: false, internal: false, arguments: {} },
    ]);
    expect(definitions.exchanges.map((e) => e.name)).toEqual(Object.keys(exchanges));
  });

  it("gives each app's user its least privileges on that vhost", () => {
    expect(definitions.permissions).toEqual([
      { user: 'p', vhost: 'orders', configure: '^$', write: '^(amq\\.default|direct_logs|logs|topic_logs)$', read: '^$' },
      {
        user: 'c',
        vhost: 'orders',
        configure: '^amq\\.gen-.*$',
        write: '^(amq\\.default|amq\\.gen-.*)$',
        read: '^(direct_logs|hello|logs|rpc_queue|task_queue|topic_logs|amq\\.gen-.*)$',
      },
    ]);
    const [producer, consumer] = definitions.permissions;
    const may = (permission: 'configure' | 'write' | 'read', who: typeof producer, name: string) => allows(who?.[permission] ?? '^$', name);
    // The producer publishes to hello, task_queue and rpc_queue (default exchange) and to the log exchanges.
    for (const name of ['amq.default', 'logs', 'direct_logs', 'topic_logs']) expect(may('write', producer, name), name).toBe(true);
    for (const name of ['amq.fanout', 'amq.topic', 'hello', 'amq.gen-x']) expect(may('write', producer, name), name).toBe(false);
    // The consumer reads its subscriptions' queues, binds its own queues to the log exchanges, and nothing else.
    for (const name of ['hello', 'task_queue', 'rpc_queue', 'logs', 'direct_logs', 'topic_logs', 'amq.gen-Xyz']) {
      expect(may('read', consumer, name), name).toBe(true);
    }
    for (const name of ['hello.dlq', 'task_queue.dlq', 'task_queue.retry.1', 'rpc_queue.dlq', 'amq.default', 'amq.fanout', 'amq.rabbitmq.trace']) {
      expect(may('read', consumer, name), name).toBe(false);
    }
    for (const name of ['logs', 'direct_logs', 'topic_logs', 'hello']) expect(may('write', consumer, name), name).toBe(false);
    for (const name of ['hello', 'task_queue', 'rpc_queue', 'logs', 'mine']) expect(may('configure', consumer, name), name).toBe(false);
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
