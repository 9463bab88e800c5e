// Tests for scripts/broker.mjs with Node's built-in runner:  node --test scripts/
//
// The first test boots a real throwaway RabbitMQ node on a free port (never 5672,
// where the shared broker runs) and always stops it and deletes its directory.

import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { clearTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = path.join(REPO, 'scripts', 'broker.mjs');
const DIST_PORT_OFFSET = 20_000; // must match broker.mjs

/** Runs broker.mjs with the given AMQP_URL; resolves with its exit code and output. */
function runBroker(command, amqpUrl, timeoutMs = 150_000) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT, command], {
      cwd: REPO,
      env: { ...process.env, AMQP_URL: amqpUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, output: stdout + stderr });
    });
  });
}

function canListen(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * An AMQP port whose distribution port (+20000) is free too. Ports from listen(0)
 * are usually above 45535, where +20000 does not exist, so draw from 10000-12499
 * (distribution ports 30000-32499, below Linux's ephemeral range).
 */
async function pickFreePort() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * 2500);
    if ((await canListen(port)) && (await canListen(port + DIST_PORT_OFFSET))) return port;
  }
  throw new Error('no free port pair found');
}

// ---------------------------------------------------------------------------
// A minimal AMQP 0-9-1 client: header, start-ok (PLAIN guest/guest), tune-ok,
// open "/", and wait for open-ok. Proves a client can really log in, not only
// that something listens.

function methodFrame(classId, methodId, args) {
  const payload = Buffer.concat([u16(classId), u16(methodId), ...args]);
  return Buffer.concat([Buffer.from([1]), u16(0), u32(payload.length), payload, Buffer.from([0xce])]);
}
const u16 = (n) => Buffer.from([n >> 8, n & 0xff]);
const u32 = (n) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const shortstr = (s) => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)]);
const longstr = (s) => Buffer.concat([u32(Buffer.byteLength(s)), Buffer.from(s)]);

/** Resolves true once connection.open-ok arrives; false on refusal, close or timeout. */
function amqpLogin(port, { user = 'guest', password = 'guest', timeoutMs = 5000 } = {}) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let buffered = Buffer.alloc(0);
    const finish = (ok) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
    socket.on('connect', () => socket.write(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1')));
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 7) {
        const size = buffered.readUInt32BE(3);
        if (buffered.length < size + 8) return;
        const [type, payload] = [buffered[0], buffered.subarray(7, 7 + size)];
        buffered = buffered.subarray(size + 8);
        if (type !== 1) continue; // heartbeats and the like
        const method = `${payload.readUInt16BE(0)}.${payload.readUInt16BE(2)}`;
        if (method === '10.10') {
          // connection.start -> start-ok: empty client-properties table, PLAIN, locale
          socket.write(
            methodFrame(10, 11, [u32(0), shortstr('PLAIN'), longstr(`\0${user}\0${password}`), shortstr('en_US')]),
          );
        } else if (method === '10.30') {
          // connection.tune -> tune-ok with the server's channel-max and frame-max, no heartbeat
          socket.write(methodFrame(10, 31, [payload.subarray(4, 6), payload.subarray(6, 10), u16(0)]));
          socket.write(methodFrame(10, 40, [shortstr('/'), shortstr(''), Buffer.from([0])]));
        } else {
          finish(method === '10.41'); // open-ok; anything else (connection.close) is a failure
        }
      }
    });
  });
}

/** Polls until the port stops answering (a stopped node closes its listener). */
async function stopsAnswering(port, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await amqpLogin(port, { timeoutMs: 2000 }))) return true;
    await sleep(500);
  }
  return false;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops the node however it can, then deletes its directory. Runs even after failures. */
async function cleanUp(port, amqpUrl) {
  const dir = path.join(REPO, '.broker', String(port));
  await runBroker('down', amqpUrl, 60_000).catch(() => undefined);
  let pid = NaN;
  try {
    pid = Number(fs.readFileSync(path.join(dir, 'pid'), 'utf8').trim());
  } catch {
    // no pid file: the node never got that far
  }
  if (pid > 0 && isAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  // Leave .broker/ alone if it holds a developer's own nodes.
  try {
    fs.rmdirSync(path.join(REPO, '.broker'));
  } catch {
    // not empty, or already gone
  }
}

// ---------------------------------------------------------------------------

test('up starts a throwaway node, up again reuses it, down stops it', { timeout: 300_000 }, async (t) => {
  const port = await pickFreePort();
  const amqpUrl = `amqp://guest:guest@127.0.0.1:${port}`;
  const redacted = `amqp://guest:***@127.0.0.1:${port}`;
  t.after(() => cleanUp(port, amqpUrl));

  const first = await runBroker('up', amqpUrl);
  assert.equal(first.code, 0, first.output);
  assert.match(first.stdout, new RegExp(`hello-rabbit-${port}@localhost`));
  assert.match(first.stdout, /pnpm broker:down/);
  assert.ok(await amqpLogin(port), 'guest/guest can log in to the new node');
  assert.ok(fs.existsSync(path.join(REPO, '.broker', String(port), 'pid')), 'pid file under .broker/<port>');

  const second = await runBroker('up', amqpUrl);
  assert.equal(second.code, 0, second.output);
  assert.equal(second.stdout.trim(), `broker: using the RabbitMQ at ${redacted}`);

  const down = await runBroker('down', amqpUrl);
  assert.equal(down.code, 0, down.output);
  assert.ok(await stopsAnswering(port), `port ${port} still answers after down`);

  const again = await runBroker('down', amqpUrl);
  assert.equal(again.code, 0, again.output);
  assert.match(again.stdout, /nothing to stop/);

  for (const run of [first, second, down, again]) {
    assert.doesNotMatch(run.output, /guest:guest/, 'the password is never printed');
  }
});

test('a remote broker that does not answer: one-line error, exit 1, no password', { timeout: 30_000 }, async () => {
  const result = await runBroker('up', 'amqp://guest:s3cret@broker.invalid:5672');
  assert.equal(result.code, 1, result.output);
  assert.equal(result.stdout, '');
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0], /broker\.invalid/);
  assert.match(lines[0], /does not answer/);
  assert.ok(!result.output.includes('s3cret'), 'the password is never printed');
  assert.ok(result.output.includes('***'), 'the URL is shown redacted');
});

test(
  'a local port taken by something that is not AMQP: one-line error, nothing started',
  { timeout: 30_000 },
  async (t) => {
    const server = net.createServer((socket) => {
      // Read (and drop) what the client sends, or this side never sees its FIN and
      // server.close() never completes.
      socket.resume();
      socket.on('error', () => undefined);
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => server.close(resolve)));
    const { port } = server.address();

    const result = await runBroker('up', `amqp://guest:s3cret@127.0.0.1:${port}`);
    assert.equal(result.code, 1, result.output);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, /not an AMQP 0-9-1 broker/);
    assert.ok(!result.output.includes('s3cret'));
    assert.ok(!fs.existsSync(path.join(REPO, '.broker', String(port))), 'no node directory created');
  },
);
