import { randomBytes } from 'node:crypto';
import { queues } from '@hello-rabbit/broker-config';
import {
  createTestVhost,
  ctl,
  enableManagement,
  requireBroker,
  withChannel,
  type ManagementEndpoint,
  type TestVhost,
} from '@hello-rabbit/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerError } from '../src/errors.js';
import { checkQueuesViaManagement } from '../src/management-check.js';

// The management API of the shared broker (its setup enables the plugin when it is not yet),
// a vhost of this file's own with the contract's queues, some of them declared otherwise,
// and users of its own: created here, deleted after.
let api: ManagementEndpoint;
let vhost: TestVhost;
const suffix = randomBytes(3).toString('hex');
const users = {
  /** The producer's least privileges on the vhost, and the management tag: what the apps' users will have. */
  app: { name: `mc-app-${suffix}`, password: 'äpp:p@ss/%#?' },
  /** No tag at all. */
  untagged: { name: `mc-untagged-${suffix}`, password: 'untagged' },
  /** The management tag, and no permissions on the vhost. */
  stranger: { name: `mc-stranger-${suffix}`, password: 'stranger' },
};
const contract = Object.values(queues);

beforeAll(async () => {
  await requireBroker();
  api = await enableManagement();
  vhost = await createTestVhost('management-check');
  for (const user of Object.values(users)) await ctl('add_user', user.name, user.password);
  await ctl('set_user_tags', users.app.name, 'management');
  await ctl('set_user_tags', users.stranger.name, 'management');
  await ctl('set_permissions', '-p', vhost.name, users.app.name, '^$', '^amq\\.default$', '^$');
  await ctl('set_permissions', '-p', vhost.name, users.untagged.name, '.*', '.*', '.*');
  // The contract's queues as the apps declare them, but for three: task_queue.retry.1 a
  // classic queue dead-lettering elsewhere, task_queue.dlq with a delivery limit and a TTL,
  // and task_queue.retry.3 missing.
  await withChannel(vhost.url, async (channel) => {
    for (const queue of contract) {
      if (queue.name === 'task_queue.retry.1') {
        await channel.assertQueue(queue.name, {
          durable: true,
          arguments: {
            'x-dead-letter-exchange': '',
            'x-dead-letter-routing-key': 'hello',
            'x-overflow': 'reject-publish',
          },
        });
      } else if (queue.name === 'task_queue.dlq') {
        await channel.assertQueue(queue.name, {
          ...queue.options,
          arguments: { ...queue.options.arguments, 'x-delivery-limit': 5, 'x-message-ttl': 60_000 },
        });
      } else if (queue.name !== 'task_queue.retry.3') {
        await channel.assertQueue(queue.name, { ...queue.options, arguments: { ...queue.options.arguments } });
      }
    }
  });
});
afterAll(async () => {
  for (const user of Object.values(users)) await ctl('delete_user', user.name).catch(() => undefined);
  await vhost.dispose();
});

const as = (user: { name: string; password: string }) => ({ url: api.url, user: user.name, password: user.password });

async function failure(promise: Promise<unknown>): Promise<BrokerError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof BrokerError) return err;
    throw err;
  }
  throw new Error('expected a BrokerError');
}

describe('checkQueuesViaManagement, against the broker', () => {
  // With the apps' own least privileges.
  it('names every difference from the contract, each in one line, and the missing queue', async () => {
    const expected = [
      `queue 'task_queue.dlq': x-delivery-limit is 5 on the broker, not set in the contract`,
      `queue 'task_queue.dlq': x-message-ttl is 60000 on the broker, not set in the contract`,
      `queue 'task_queue.retry.1': type is "classic" on the broker, "quorum" in the contract`,
      `queue 'task_queue.retry.1': x-dead-letter-routing-key is "hello" on the broker, "task_queue" in the contract`,
      `queue 'task_queue.retry.1': x-dead-letter-strategy is not set on the broker, "at-least-once" in the contract`,
      `vhost '${vhost.name}' has no queue 'task_queue.retry.3'`,
    ];
    const asAdmin = await checkQueuesViaManagement({
      url: api.url,
      user: api.user,
      password: api.password,
      vhost: vhost.name,
      queues: contract,
    });
    expect(asAdmin.map((d) => d.description)).toEqual(expected);
    const asApp = await checkQueuesViaManagement({ ...as(users.app), vhost: vhost.name, queues: contract });
    expect(asApp.map((d) => d.description)).toEqual(expected);
  });

  it('finds nothing once the queues are as the contract declares them', async () => {
    await withChannel(vhost.url, async (channel) => {
      for (const name of ['task_queue.retry.1', 'task_queue.dlq'] as const) {
        await channel.deleteQueue(name);
        await channel.assertQueue(name, { ...queues[name].options, arguments: { ...queues[name].options.arguments } });
      }
      await channel.assertQueue('task_queue.retry.3', {
        ...queues['task_queue.retry.3'].options,
        arguments: { ...queues['task_queue.retry.3'].options.arguments },
      });
    });
    expect(await checkQueuesViaManagement({ ...as(users.app), vhost: vhost.name, queues: contract })).toEqual([]);
  });

  it.each([
    ['a wrong password', () => ({ ...as(users.app), password: 'wrong' }), 'wrong username or password', users.app.name],
    [
      'a user without a management tag',
      () => as(users.untagged),
      'the user has no management tag ' +
        `(give it one: rabbitmqctl set_user_tags '${users.untagged.name}' management, or monitoring)`,
      users.untagged.name,
    ],
    [
      'a user without permissions on the vhost',
      () => as(users.stranger),
      'the user has no permissions on the vhost (rabbitmqctl set_permissions, even all "^$", gives access)',
      users.stranger.name,
    ],
  ])('refuses %s in one line that says why', async (_what, login, why, name) => {
    const err = await failure(checkQueuesViaManagement({ ...login(), vhost: vhost.name, queues: contract }));
    expect(err.code).toBe('ACCESS_REFUSED');
    expect(err.message).toBe(`the management API at ${api.url} refused user '${name}': ${why}`);
    expect(err.exitCode).toBe(77);
  });

  it('says when the vhost does not exist', async () => {
    const err = await failure(
      checkQueuesViaManagement({
        url: api.url,
        user: api.user,
        password: api.password,
        vhost: `no-such-${suffix}`,
        queues: contract,
      }),
    );
    expect(err.code).toBe('VHOST_NOT_FOUND');
    expect(err.message).toBe(`the management API at ${api.url} has no vhost 'no-such-${suffix}': it does not exist`);
  });

  it('says when it reaches no management API (the AMQP port)', async () => {
    const amqp = new URL(api.url);
    amqp.port = '5672';
    const err = await failure(
      checkQueuesViaManagement({
        url: amqp.toString(),
        user: api.user,
        password: api.password,
        timeoutMs: 3000,
        vhost: vhost.name,
        queues: contract,
      }),
    );
    expect(err.message).toBe(
      `the server at ${amqp.toString().replace(/\/$/, '')} did not answer HTTP (is it the management API's port?)`,
    );
  });
});
