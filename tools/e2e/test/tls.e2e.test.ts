import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { createTestPki, RabbitNode, spawnApp, type AppName, type TestPki } from '@hello-rabbit/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorLines, type Env } from './apps.js';

// TLS end to end: two private RabbitMQ nodes with TLS listeners and certificates made here
// by openssl (one verifying client certificates when sent, one requiring them), and the
// built apps connecting to them, or refusing to.
let pki: TestPki;
let node: RabbitNode | undefined;
let mtlsNode: RabbitNode | undefined;

beforeAll(async () => {
  pki = await createTestPki({ serverNames: ['localhost'] });
  const listener = { cacertfile: pki.ca.cert, certfile: pki.server.cert, keyfile: pki.server.key };
  const [one, two] = await Promise.allSettled([
    RabbitNode.boot({ label: 'e2e-tls', tls: listener }),
    RabbitNode.boot({ label: 'e2e-mtls', tls: { ...listener, failIfNoPeerCert: true } }),
  ]);
  if (one.status === 'fulfilled') node = one.value;
  if (two.status === 'fulfilled') mtlsNode = two.value;
  if (one.status === 'rejected') throw one.reason;
  if (two.status === 'rejected') throw two.reason;
});
afterAll(async () => {
  await Promise.all([node?.stop(), mtlsNode?.stop()]);
  await pki.dispose();
});

const tlsNode = () => {
  if (node === undefined) throw new Error('no TLS node');
  return node;
};
const mtls = () => {
  if (mtlsNode === undefined) throw new Error('no mTLS node');
  return mtlsNode;
};
const base: Env = { LOG_LEVEL: 'warn', AMQP_CONNECT_TIMEOUT_MS: '10000' };

/** Runs both apps with `env` and expects each to refuse with this one line and exit code 77. */
async function bothRefuse(env: Env, line: RegExp) {
  for (const app of ['producer', 'consumer'] as const satisfies readonly AppName[]) {
    const result = await spawnApp(app, [], { env: { ...base, ...env }, timeoutMs: 60_000 }).exited;
    expect(result.code, `${app}: ${result.stderr}`).toBe(77);
    expect(errorLines(result.stderr), app).toHaveLength(1);
    expect(errorLines(result.stderr)[0], app).toMatch(new RegExp(`^${app}: ${line.source}`));
    expect(result.stdout, app).toBe('');
  }
}

/** A consumer receives what the producer sends, both over TLS with `env`. */
async function roundTrip(env: Env, text: string) {
  const consumer = spawnApp('consumer', [], { env: { ...base, ...env }, timeoutMs: 90_000 });
  try {
    await consumer.waitForOutput(/Waiting for messages/, 30_000);
    const sent = await spawnApp('producer', [text], { env: { ...base, ...env }, timeoutMs: 60_000 }).exited;
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toBe(` [x] Sent '${text}'\n`);
    await consumer.waitForOutput(new RegExp(`Received '${text}'`));
  } finally {
    const stopped = await consumer.stop('SIGTERM');
    expect(stopped.code, stopped.stderr).toBe(0);
  }
}

describe('TLS, verifying the broker', () => {
  it('publishes and consumes over TLS with the private CA, and the broker sees TLS connections', async () => {
    const env = { AMQP_URL: tlsNode().amqpsUrl(), AMQP_TLS_CA_FILE: pki.ca.cert };
    const consumer = spawnApp('consumer', [], { env: { ...base, ...env }, timeoutMs: 90_000 });
    try {
      await consumer.waitForOutput(/Waiting for messages/, 30_000);
      const connections = await tlsNode().ctl([
        'list_connections',
        'ssl',
        'peer_port',
        '--no-table-headers',
        '--quiet',
      ]);
      expect(
        connections
          .trim()
          .split('\n')
          .map((row) => row.split('\t')[0]),
      ).toEqual(['true']);
    } finally {
      await consumer.stop('SIGTERM');
    }
    await roundTrip(env, 'over TLS');
  });

  it("refuses the broker with Node's default trust store: the private CA is not in it", async () => {
    await bothRefuse(
      { AMQP_URL: tlsNode().amqpsUrl() },
      new RegExp(
        /TLS: the broker's certificate at localhost:\d+ is not trusted /.source +
          /\(self-signed certificate in certificate chain\): /.source +
          /set AMQP_TLS_CA_FILE to the certificate of the CA that signed it$/.source,
      ),
    );
  });

  it('refuses it even when NODE_TLS_REJECT_UNAUTHORIZED=0 asks Node not to verify', async () => {
    await bothRefuse(
      { AMQP_URL: tlsNode().amqpsUrl(), NODE_TLS_REJECT_UNAUTHORIZED: '0' },
      /TLS: the broker's certificate at localhost:\d+ is not trusted/,
    );
  });

  it('refuses it with the wrong CA', async () => {
    await bothRefuse(
      { AMQP_URL: tlsNode().amqpsUrl(), AMQP_TLS_CA_FILE: pki.otherCa.cert },
      new RegExp(
        `TLS: the broker's certificate at localhost:\\d+ is not trusted \\(.+\\): ` +
          `it is not signed by the CA in AMQP_TLS_CA_FILE \\(${pki.otherCa.cert}\\)$`,
      ),
    );
  });

  it('refuses a broker reached by a name its certificate does not carry (127.0.0.1 for localhost)', async () => {
    await bothRefuse(
      { AMQP_URL: tlsNode().amqpsUrl('/', '127.0.0.1'), AMQP_TLS_CA_FILE: pki.ca.cert },
      new RegExp(
        /TLS: the broker's certificate at 127\.0\.0\.1:\d+ does not name the host '127\.0\.0\.1' /.source +
          /\(IP: 127\.0\.0\.1 is not in the cert's list:\): /.source +
          /connect by a name it holds, or set AMQP_TLS_SERVERNAME to one$/.source,
      ),
    );
    await bothRefuse(
      { AMQP_URL: tlsNode().amqpsUrl(), AMQP_TLS_CA_FILE: pki.ca.cert, AMQP_TLS_SERVERNAME: 'broker.example' },
      /TLS: the broker's certificate at localhost:\d+ does not name 'broker\.example' \(AMQP_TLS_SERVERNAME\)/,
    );
  });

  it('accepts that broker by IP when AMQP_TLS_SERVERNAME names what its certificate carries', async () => {
    await roundTrip(
      {
        AMQP_URL: tlsNode().amqpsUrl('/', '127.0.0.1'),
        AMQP_TLS_CA_FILE: pki.ca.cert,
        AMQP_TLS_SERVERNAME: 'localhost',
      },
      'by IP',
    );
  });
});

describe('TLS, a self-signed server', () => {
  let server: tls.Server;
  let port = 0;
  beforeAll(async () => {
    // Not RabbitMQ: the handshake fails before AMQP would begin, which is the point.
    server = tls.createServer(
      { cert: readFileSync(pki.selfSigned.cert), key: readFileSync(pki.selfSigned.key) },
      (socket) => {
        socket.on('error', () => undefined);
      },
    );
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('is refused, with the default trust store, with a CA file, and with NODE_TLS_REJECT_UNAUTHORIZED=0', async () => {
    const url = `amqps://guest:guest@localhost:${port}`;
    const refused = /TLS: the broker's certificate at localhost:\d+ is not trusted \(self-signed certificate\)/;
    await bothRefuse({ AMQP_URL: url }, refused);
    await bothRefuse({ AMQP_URL: url, AMQP_TLS_CA_FILE: pki.ca.cert }, refused);
    await bothRefuse({ AMQP_URL: url, NODE_TLS_REJECT_UNAUTHORIZED: '0' }, refused);
  });
});

describe('mutual TLS', () => {
  it('publishes and consumes with the client certificate', async () => {
    await roundTrip(
      {
        AMQP_URL: mtls().amqpsUrl(),
        AMQP_TLS_CA_FILE: pki.ca.cert,
        AMQP_TLS_CERT_FILE: pki.client.cert,
        AMQP_TLS_KEY_FILE: pki.client.key,
      },
      'with a client certificate',
    );
  });

  it('is refused without a client certificate, and says which settings give one', async () => {
    await bothRefuse(
      { AMQP_URL: mtls().amqpsUrl(), AMQP_TLS_CA_FILE: pki.ca.cert },
      /TLS: the broker at localhost:\d+ requires a client certificate: set AMQP_TLS_CERT_FILE and AMQP_TLS_KEY_FILE$/,
    );
  });

  it('is refused with a client certificate of another CA', async () => {
    await bothRefuse(
      {
        AMQP_URL: mtls().amqpsUrl(),
        AMQP_TLS_CA_FILE: pki.ca.cert,
        AMQP_TLS_CERT_FILE: pki.strangerClient.cert,
        AMQP_TLS_KEY_FILE: pki.strangerClient.key,
      },
      new RegExp(`TLS: the broker at localhost:\\d+ refused our client certificate \\(${pki.strangerClient.cert}\\): `),
    );
  });
});
