import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { brokerUrl } from './broker.js';

const run = promisify(execFile);

/** A vhost made for one test file: its own `hello`, gone with everything in it after. */
export interface TestVhost {
  readonly name: string;
  /** AMQP_URL for this vhost. */
  readonly url: string;
  dispose(): Promise<void>;
}

/**
 * The command that administers the test broker. `RABBITMQCTL` may name another, e.g.
 * `/usr/lib/rabbitmq/bin/rabbitmqctl -n t1@localhost` for a private node.
 */
function rabbitmqctl(): [string, string[]] {
  const words = (process.env.RABBITMQCTL ?? 'rabbitmqctl').split(/\s+/).filter(Boolean);
  const [command = 'rabbitmqctl', ...rest] = words;
  return [command, rest];
}

/** Runs rabbitmqctl (or `RABBITMQCTL`) on the test broker with `args`; resolves with its stdout. */
export async function ctl(...args: string[]): Promise<string> {
  const [command, prefix] = rabbitmqctl();
  try {
    const { stdout } = await run(command, [...prefix, ...args], { timeout: 60_000 });
    return stdout;
  } catch (err) {
    throw new Error(
      `'${command} ${[...prefix, ...args].join(' ')}' failed: the tests create a vhost per test file ` +
        `and need rabbitmqctl for the broker (set RABBITMQCTL to reach another node): ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * Creates a vhost named after the test, gives the broker user of AMQP_URL full rights on
 * it, and returns its URL. Tests in different files (and different packages, run at the
 * same time by turbo) never see each other's queues, and the real queue names are used.
 */
export async function createTestVhost(label: string): Promise<TestVhost> {
  const base = new URL(brokerUrl());
  const name = `test-${label}-${randomUUID().slice(0, 8)}`;
  const user = decodeURIComponent(base.username || 'guest');
  await ctl('add_vhost', name);
  await ctl('set_permissions', '-p', name, user, '.*', '.*', '.*');
  const url = new URL(base.toString());
  url.pathname = `/${encodeURIComponent(name)}`;
  return {
    name,
    url: url.toString(),
    dispose: async () => {
      await ctl('delete_vhost', name);
    },
  };
}
