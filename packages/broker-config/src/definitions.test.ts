import { describe, expect, it } from 'vitest';
import { appRights, DEFAULT_EXCHANGE_RESOURCE, exportDefinitions, permissionPattern } from './definitions.js';
import { queues, subscriptions } from './topology.js';

/** RabbitMQ matches a permission pattern against the whole resource name, as this does. */
const allows = (pattern: string, name: string) => new RegExp(pattern).test(name);

describe('appRights', () => {
  it('lets the producer write to the default exchange only, and configure and read nothing', () => {
    expect(appRights().producer).toEqual({ configure: [], write: ['amq.default'], read: [] });
  });

  it('lets the consumer read the queues it subscribes to, write its retries and dead letters, and configure nothing', () => {
    const { consumer } = appRights();
    expect(consumer).toEqual({ configure: [], write: ['amq.default'], read: Object.values(subscriptions).map((s) => s.queue).sort() });
    expect(consumer.read).toEqual(expect.arrayContaining(['hello', 'task_queue']));
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
    expect(definitions.exchanges).toEqual([]);
    expect(definitions.bindings).toEqual([]);
  });

  it("gives each app's user its least privileges on that vhost", () => {
    expect(definitions.permissions).toEqual([
      { user: 'p', vhost: 'orders', configure: '^$', write: '^amq\\.default$', read: '^$' },
      { user: 'c', vhost: 'orders', configure: '^$', write: '^amq\\.default$', read: permissionPattern(appRights().consumer.read) },
    ]);
    const reads = (name: string) => allows(definitions.permissions[1]?.read ?? '^$', name);
    expect(reads('hello')).toBe(true);
    expect(reads('task_queue')).toBe(true);
    for (const name of ['hello.dlq', 'task_queue.dlq', 'task_queue.retry.1', 'amq.default']) expect(reads(name), name).toBe(false);
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
