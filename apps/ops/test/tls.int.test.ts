import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestPki, eventually, freePort, RabbitNode, type TestPki } from '@hello-rabbit/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { humanLines, ids, lines, ops, seedDeadLetters } from './helpers.js';

// The tool connects over AMQP as the apps do, with the same settings: on a private node
// with a TLS listener that requires a client certificate (certificates made here by
// openssl) and the management API on a port of its own, it reads dead letters over mutual
// TLS with its URL and password from files, and refuses, in one line, what the apps refuse.
const VHOST = 'ops-tls';
const user = { name: 'ops-tls', password: 'tls:p@ss/wörd%#? "x"' };

let pki: TestPki;
let node: RabbitNode | undefined;
let managementPort = 0;
let dir: string;

/** Waits until the node's management API answers: the plugin starts a moment after AMQP. */
async function managementReady(url: string): Promise<void> {
  const authorization = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
  let status: number | undefined;
  await eventually(
    async () => {
      status = await fetch(`${url}/api/overview`, {
        headers: { authorization },
        signal: AbortSignal.timeout(2000),
      }).then(
        (response) => response.status,
        () => undefined,
      );
      return status === 200;
    },
    60_000,
    `the management API at ${url} to answer`,
    250,
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message} (last: ${status ?? 'nothing'})`, { cause: err });
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ops-tls-'));
  pki = await createTestPki({ serverNames: ['localhost'] });
  managementPort = await freePort();
  node = await RabbitNode.boot({
    label: 'ops-tls',
    tls: { cacertfile: pki.ca.cert, certfile: pki.server.cert, keyfile: pki.server.key, failIfNoPeerCert: true },
    plugins: ['rabbitmq_management'],
    config: [`management.tcp.ip = 127.0.0.1`, `management.tcp.port = ${managementPort}`],
  });
  await node.ctl(['add_vhost', VHOST]);
  await node.ctl(['add_user', user.name, user.password]);
  await node.ctl(['set_user_tags', user.name, 'management']);
  await node.ctl(['set_permissions', '-p', VHOST, user.name, '.*', '.*', '.*']);
  await node.ctl(['set_permissions', '-p', VHOST, 'guest', '.*', '.*', '.*']);
  await managementReady(managementUrl());
  // A classic dead-letter queue: its statistics need no policy lookup before the tool reads it.
  await seedDeadLetters(
    node.url(VHOST),
    'task_queue.dlq',
    ids('tls', 2).map((id) => ({ id, reason: 'boom' })),
    { durable: true },
  );
}, 180_000);
afterAll(async () => {
  await node?.stop();
  await pki.dispose();
  await rm(dir, { recursive: true, force: true });
});

const tlsNode = () => {
  if (node === undefined) throw new Error('no TLS node');
  return node;
};
const managementUrl = () => `http://127.0.0.1:${managementPort}`;

/** Files of the tool's secrets, as a deployment mounts them. */
async function secretFile(name: string, contents: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, contents, { mode: 0o600 });
  return file;
}

/** The tool's environment for the TLS listener: URL without password, every TLS file, unless `env` says otherwise. */
function tlsEnv(env: Record<string, string | undefined> = {}, host = 'localhost'): Record<string, string | undefined> {
  return {
    AMQP_URL:
      `amqps://${encodeURIComponent(user.name)}:${encodeURIComponent(user.password)}` +
      `@${host}:${tlsNode().tlsPort}/${VHOST}`,
    AMQP_TLS_CA_FILE: pki.ca.cert,
    AMQP_TLS_CERT_FILE: pki.client.cert,
    AMQP_TLS_KEY_FILE: pki.client.key,
    MANAGEMENT_URL: managementUrl(),
    AMQP_CONNECT_TIMEOUT_MS: '10000',
    ...env,
  };
}

/** `ops dlq list task_queue.dlq` with this environment (AMQP_URL included). */
const listDeadLetters = (env: Record<string, string | undefined>) =>
  ops(env.AMQP_URL ?? '', ['dlq', 'list', 'task_queue.dlq'], env);

/** What a person reads on stderr, without Node's own warning (NODE_TLS_REJECT_UNAUTHORIZED=0 brings one). */
const errorLines = (stderr: string) => humanLines(stderr).filter((line) => !/^\((node:\d+\) |Use `node )/.test(line));

/** The tool refuses with this one line (after `ops: `) and exit code 77, and prints nothing on stdout. */
async function refuses(env: Record<string, string | undefined>, line: RegExp) {
  const result = await listDeadLetters(env);
  expect(result.code, result.stderr).toBe(77);
  expect(errorLines(result.stderr)).toHaveLength(1);
  expect(errorLines(result.stderr)[0]).toMatch(new RegExp(`^ops: ${line.source}$`));
  expect(result.stdout).toBe('');
}

describe('ops over TLS, with the settings of the apps', () => {
  it('reads dead letters over mutual TLS, URL and password from files, and never shows the password', async () => {
    const urlFile = await secretFile('amqp-url', `amqps://${user.name}@localhost:${tlsNode().tlsPort}/${VHOST}\n`);
    const passwordFile = await secretFile('amqp-password', `${user.password}\n`);
    const result = await listDeadLetters(
      tlsEnv({ AMQP_URL: undefined, AMQP_URL_FILE: urlFile, AMQP_PASSWORD_FILE: passwordFile, LOG_LEVEL: 'trace' }),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(lines(result.stdout)[0]).toBe('task_queue.dlq: 2 dead letters, 1 reason');
    expect(result.stdout).toMatch(/^ +2 +boom$/m);
    // The diagnostic log says it connected with TLS.
    expect(result.stderr).toMatch(/"tls":true[^\n]*"msg":"connected to the broker"/);
    for (const form of [user.password, encodeURIComponent(user.password), JSON.stringify(user.password).slice(1, -1)]) {
      expect(result.stdout).not.toContain(form);
      expect(result.stderr).not.toContain(form);
    }
  });

  // The private CA is not in Node's trust store.
  it("refuses the broker with Node's trust store, even with NODE_TLS_REJECT_UNAUTHORIZED=0", async () => {
    const untrusted = new RegExp(
      /TLS: the broker's certificate at localhost:\d+ is not trusted /.source +
        /\(self-signed certificate in certificate chain\): /.source +
        /set AMQP_TLS_CA_FILE to the certificate of the CA that signed it/.source,
    );
    await refuses(tlsEnv({ AMQP_TLS_CA_FILE: undefined }), untrusted);
    await refuses(tlsEnv({ AMQP_TLS_CA_FILE: undefined, NODE_TLS_REJECT_UNAUTHORIZED: '0' }), untrusted);
  });

  it('refuses it with the wrong CA, naming the file', async () => {
    await refuses(
      tlsEnv({ AMQP_TLS_CA_FILE: pki.otherCa.cert }),
      new RegExp(
        `TLS: the broker's certificate at localhost:\\d+ is not trusted \\(.+\\): ` +
          `it is not signed by the CA in AMQP_TLS_CA_FILE \\(${pki.otherCa.cert}\\)`,
      ),
    );
  });

  it('says that the broker requires a client certificate when none is given', async () => {
    await refuses(
      tlsEnv({ AMQP_TLS_CERT_FILE: undefined, AMQP_TLS_KEY_FILE: undefined }),
      /TLS: the broker at localhost:\d+ requires a client certificate: set AMQP_TLS_CERT_FILE and AMQP_TLS_KEY_FILE/,
    );
  });

  it("checks the certificate's name: 127.0.0.1 is refused, accepted with AMQP_TLS_SERVERNAME=localhost", async () => {
    await refuses(
      tlsEnv({}, '127.0.0.1'),
      new RegExp(
        /TLS: the broker's certificate at 127\.0\.0\.1:\d+ does not name the host '127\.0\.0\.1' \(.+\): /.source +
          /connect by a name it holds, or set AMQP_TLS_SERVERNAME to one/.source,
      ),
    );
    const result = await listDeadLetters(tlsEnv({ AMQP_TLS_SERVERNAME: 'localhost' }, '127.0.0.1'));
    expect(result.code, result.stderr).toBe(0);
    expect(lines(result.stdout)[0]).toBe('task_queue.dlq: 2 dead letters, 1 reason');
  });

  it('refuses TLS settings with an amqp:// URL, before connecting', async () => {
    const result = await listDeadLetters(tlsEnv({ AMQP_URL: tlsNode().url(VHOST) }));
    expect(result.code).toBe(78);
    expect(errorLines(result.stderr)).toEqual(
      ['AMQP_TLS_CA_FILE', 'AMQP_TLS_CERT_FILE', 'AMQP_TLS_KEY_FILE'].map(
        (name) => `ops: ${name}: needs an amqps:// broker URL (AMQP_URL is amqp://, not encrypted)`,
      ),
    );
  });
});
