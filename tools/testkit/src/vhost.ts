import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { brokerUrl } from './broker.js';
import { isAlive } from './process.js';

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

/** The description a test vhost carries: who made it, so that a later run can tell it was left behind. */
export const vhostOwner = (pid = process.pid, host = os.hostname()): string =>
  `hello-rabbit test; pid ${pid} on ${host}`;
const OWNER = /^hello-rabbit test; pid (\d+) on (.+)$/;

/**
 * Deletes the test vhosts (`test-*`) that a test process of this machine made and did not
 * dispose of because it was killed or cut short (its pid, in the vhost's description, is
 * gone); never one whose owner lives, another machine's, or one without an owner.
 * Resolves with the names deleted.
 */
export async function sweepStaleVhosts(alive: (pid: number) => boolean = isAlive): Promise<string[]> {
  const listed = JSON.parse(await ctl('list_vhosts', 'name', 'description', '--formatter', 'json')) as {
    name: string;
    description?: string;
  }[];
  const host = os.hostname();
  const stale = listed.filter(({ name, description }) => {
    const owner = OWNER.exec(description ?? '');
    return name.startsWith('test-') && owner?.[2] === host && !alive(Number(owner[1]));
  });
  for (const { name } of stale) await ctl('delete_vhost', name).catch(() => undefined);
  return stale.map(({ name }) => name);
}

/**
 * Sweeps stale vhosts (sweepStaleVhosts) at most once a minute per machine and broker: a
 * stamp file in the temporary directory says when the last sweep began, so the many test
 * files of a run do not each pay for a rabbitmqctl call.
 */
async function sweepNowAndThen(): Promise<void> {
  const key = createHash('sha256')
    .update(process.env.RABBITMQCTL ?? 'rabbitmqctl')
    .digest('hex')
    .slice(0, 12);
  const stamp = path.join(os.tmpdir(), `hello-rabbit-vhost-sweep-${key}`);
  try {
    if (Date.now() - statSync(stamp).mtimeMs < 60_000) return;
    const now = new Date();
    utimesSync(stamp, now, now);
  } catch {
    writeFileSync(stamp, '');
  }
  await sweepStaleVhosts();
}

/**
 * Creates a vhost named after the test, gives the broker user of AMQP_URL full rights on
 * it, and returns its URL. Tests in different files (and different packages, run at the
 * same time by turbo) never see each other's queues, and the real queue names are used.
 * The vhost's description names the test process; vhosts that killed or cut-short runs of
 * this machine left behind are deleted first (sweepStaleVhosts, at most once a minute).
 */
export async function createTestVhost(label: string): Promise<TestVhost> {
  const base = new URL(brokerUrl());
  const name = `test-${label}-${randomUUID().slice(0, 8)}`;
  const user = decodeURIComponent(base.username || 'guest');
  await sweepNowAndThen();
  await ctl('add_vhost', name, '--description', vhostOwner());
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
