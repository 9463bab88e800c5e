import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestPki, eventually, inspectQueue, RabbitNode, spawnApp, type TestPki } from '@hello-rabbit/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Env } from './apps.js';

// No password in any output: both apps, every log level down to trace (and Rascal's own
// debug output), through successes and failures (wrong passwords, TLS, permissions,
// unreachable brokers, bad settings). Every byte of stdout and stderr is searched for the
// password in every form it could take: as it is, %-encoded, JSON-escaped.
const PASSWORD = 'p@ss:w/rd%#?ü "q" \\z';
const WRONG = 'Wr0ng:p@ss#%?"x';

let node: RabbitNode | undefined;
let pki: TestPki;
let dir: string;

const broker = () => {
  if (node === undefined) throw new Error('no node');
  return node;
};
const url = (user: string, password: string, { tls = false, port }: { tls?: boolean; port?: number } = {}) =>
  `${tls ? 'amqps' : 'amqp'}://${user}:${encodeURIComponent(password)}@${tls ? 'localhost' : '127.0.0.1'}:` +
  `${port ?? (tls ? broker().tlsPort : broker().port)}/`;
const userOnly = (user: string, tls = false) =>
  `${tls ? 'amqps' : 'amqp'}://${user}@${tls ? 'localhost' : '127.0.0.1'}:${tls ? broker().tlsPort : broker().port}/`;

/** Every form a password could take in some output. */
const forms = (secret: string) => [
  secret,
  encodeURIComponent(secret),
  JSON.stringify(secret).slice(1, -1),
  // Its distinctive middle, in case a form not listed here leaks it in part.
  secret.slice(2, 9),
  encodeURIComponent(secret.slice(2, 9)),
];

/** All that the runs of the current test printed, on stdout and stderr. */
const outputs: { what: string; text: string }[] = [];
const record = <R extends { stdout: string; stderr: string }>(what: string, result: R): R => {
  outputs.push({ what, text: `${result.stdout}\n${result.stderr}` });
  return result;
};

/** The check itself, over every run of the test; `runs` of them at least. */
function expectNoPassword(runs: number) {
  const seen = outputs.splice(0);
  expect(seen.length).toBeGreaterThanOrEqual(runs);
  for (const { what, text } of seen) {
    expect(text.trim(), `${what} printed nothing`).not.toBe('');
    for (const form of [...forms(PASSWORD), ...forms(WRONG)])
      expect(text.includes(form), `${what} printed ${form}:\n${text}`).toBe(false);
  }
}

const trace: Env = { LOG_LEVEL: 'trace', DEBUG: 'rascal:*', AMQP_CONNECT_TIMEOUT_MS: '10000' };

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hello-rabbit-secrets-'));
  pki = await createTestPki();
  node = await RabbitNode.boot({
    label: 'e2e-secrets',
    tls: { cacertfile: pki.ca.cert, certfile: pki.server.cert, keyfile: pki.server.key },
  });
  await broker().ctl(['add_user', 'app', PASSWORD]);
  await broker().ctl(['set_permissions', '-p', '/', 'app', '.*', '.*', '.*']);
  // Logs in, may do nothing: the default mode's declaration is refused.
  await broker().ctl(['add_user', 'limited', PASSWORD]);
  await broker().ctl(['set_permissions', '-p', '/', 'limited', '^$', '^$', '^$']);
});
afterAll(async () => {
  await node?.stop();
  await pki.dispose();
  await rm(dir, { recursive: true, force: true });
});

const file = async (name: string, contents: string) => {
  const at = path.join(dir, name);
  await writeFile(at, contents, { mode: 0o600 });
  return at;
};

describe('both apps, at every log level, print no password', () => {
  // The password in the URL or in a file, and over TLS.
  it('when all goes well: publishing and consuming, retries and dead letters', async () => {
    const passwordFile = await file('password', `${PASSWORD}\n`);
    const withUrl = { ...trace, AMQP_URL: url('app', PASSWORD) };
    const withFile = { ...trace, AMQP_URL: userOnly('app'), AMQP_PASSWORD_FILE: passwordFile };
    const overTls = {
      ...trace,
      AMQP_URL: userOnly('app', true),
      AMQP_PASSWORD_FILE: passwordFile,
      AMQP_TLS_CA_FILE: pki.ca.cert,
    };

    const consumer = spawnApp('consumer', [], { env: withUrl, timeoutMs: 90_000 });
    const worker = spawnApp('consumer', ['--from', 'task_queue'], {
      env: {
        ...withFile,
        WORK_UNIT_MS: '0',
        MAX_ATTEMPTS: '2',
        RETRY_DELAYS_MS: '100',
        FAIL_TASKS_MATCHING: '^fail',
      },
      timeoutMs: 90_000,
    });
    try {
      await consumer.waitForOutput(/Waiting for messages/, 30_000);
      await worker.waitForOutput(/Waiting for messages/, 30_000);
      for (const env of [withUrl, withFile, overTls]) {
        expect(
          record('producer', await spawnApp('producer', ['secret-free'], { env, timeoutMs: 60_000 }).exited).code,
        ).toBe(0);
      }
      expect(
        record(
          'producer',
          await spawnApp('producer', ['--to', 'task_queue', 'fail me'], { env: overTls, timeoutMs: 60_000 }).exited,
        ).code,
      ).toBe(0);
      await eventually(
        async () => ((await inspectQueue(broker().url(), 'task_queue.dlq'))?.messageCount ?? 0) === 1,
        30_000,
        'the dead letter',
      );
      await consumer.waitForOutput(/Received 'secret-free'/);
    } finally {
      record('consumer', await consumer.stop('SIGTERM'));
      record('consumer --from task_queue', await worker.stop('SIGTERM'));
    }
    // The logs really went down to debug (nothing logs at trace, which is on), and
    // Rascal's debug output was on.
    const all = outputs.map((o) => o.text).join('\n');
    expect(all).toMatch(/"level":20/);
    expect(all).toMatch(/rascal:/);
    expectNoPassword(6);
  });

  it('when the password is wrong, in the URL or in a file', async () => {
    const wrongFile = await file('wrong', WRONG);
    for (const app of ['producer', 'consumer'] as const) {
      expect(
        record(
          app,
          await spawnApp(app, [], { env: { ...trace, AMQP_URL: url('app', WRONG) }, timeoutMs: 60_000 }).exited,
        ).code,
      ).toBe(77);
      expect(
        record(
          app,
          await spawnApp(app, [], {
            env: { ...trace, AMQP_URL: userOnly('app'), AMQP_PASSWORD_FILE: wrongFile },
            timeoutMs: 60_000,
          }).exited,
        ).code,
      ).toBe(77);
    }
    expectNoPassword(4);
  });

  it('when TLS fails, when the user lacks permissions, when no broker answers', async () => {
    const closed = 1; // tcpmux: nothing listens there
    for (const app of ['producer', 'consumer'] as const) {
      expect(
        record(
          app,
          await spawnApp(app, [], {
            env: { ...trace, AMQP_URL: url('app', PASSWORD, { tls: true }) },
            timeoutMs: 60_000,
          }).exited,
        ).code,
      ).toBe(77);
      expect(
        record(
          app,
          await spawnApp(app, [], { env: { ...trace, AMQP_URL: url('limited', PASSWORD) }, timeoutMs: 60_000 }).exited,
        ).code,
      ).toBe(77);
      expect(
        record(
          app,
          await spawnApp(app, [], {
            env: { ...trace, AMQP_URL: url('app', PASSWORD, { port: closed }) },
            timeoutMs: 60_000,
          }).exited,
        ).code,
      ).toBe(69);
    }
    expectNoPassword(6);
  });

  it('when the settings are wrong', async () => {
    const passwordFile = await file('password-2', PASSWORD);
    const badUrlFile = await file('bad-url', `http://app:${encodeURIComponent(PASSWORD)}@broker\n`);
    for (const app of ['producer', 'consumer'] as const) {
      for (const env of [
        { AMQP_URL: url('app', PASSWORD), AMQP_PASSWORD_FILE: passwordFile },
        { AMQP_URL: `amqp://app:${encodeURIComponent(PASSWORD)}@127.0.0.1:notaport/` },
        { AMQP_URL: `http://app:${encodeURIComponent(PASSWORD)}@127.0.0.1/` },
        { AMQP_URL_FILE: badUrlFile },
        { AMQP_URL: url('app', PASSWORD), AMQP_TLS_CA_FILE: pki.ca.cert },
      ]) {
        expect(record(app, await spawnApp(app, [], { env: { ...trace, ...env }, timeoutMs: 60_000 }).exited).code).toBe(
          78,
        );
      }
    }
    expectNoPassword(10);
  });
});
