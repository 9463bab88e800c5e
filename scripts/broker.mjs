#!/usr/bin/env node
// A RabbitMQ broker for local development.
//
//   node scripts/broker.mjs up     (pnpm broker:up)
//   node scripts/broker.mjs down   (pnpm broker:down)
//   node scripts/broker.mjs status (exit 0 when a broker answers at AMQP_URL)
//
// `up` uses the broker AMQP_URL points at when one answers. Otherwise, for a local
// URL, it starts a throwaway RabbitMQ node whose data, logs, Erlang cookie and pid
// file all live in <repo>/.broker/<port>/ (git-ignored), so it never touches a
// system-wide broker; failing that it starts one with Docker Compose; failing that
// it says what to install. `down` stops what `up` started.
//
// `status` needs nothing beyond Node itself (CI runs it right after `pnpm install`).
// Starting and stopping a node needs `pnpm build`: the node is @hello-rabbit/testkit's
// RabbitNode, the one the tests boot (tools/testkit/dist).
//
// The password in AMQP_URL is never printed: every message uses the redacted URL.

import { Buffer } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { clearInterval, clearTimeout, setInterval } from 'node:timers';
import tls from 'node:tls';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_URL = 'amqp://guest:guest@localhost:5672';
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1']);
// RabbitNode's: how long a booting node has to answer.
const BOOT_TIMEOUT_MS = 120_000;
const PROGRESS_EVERY_MS = 5_000;
// A node's Erlang distribution port is its AMQP port + 20000 (RabbitMQ's own rule),
// so a throwaway node on another AMQP port stays clear of a system broker's 25672.
const DIST_PORT_OFFSET = 20_000;
// An AMQP 0-9-1 server answers this header with a connection.start METHOD frame.
const AMQP_091_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);
const FRAME_METHOD = 1;
const INSTALL_HELP = [
  'install RabbitMQ, then run `pnpm broker:up` again:',
  '  Debian/Ubuntu: sudo apt-get install rabbitmq-server',
  '  macOS:         brew install rabbitmq',
  '  or Docker with the compose plugin (https://docs.docker.com/compose/install/)',
];

/** Thrown for every expected failure: main() prints its message as one line, no stack. */
class BrokerError extends Error {}

// ---------------------------------------------------------------------------
// AMQP_URL

/** Parses AMQP_URL without ever echoing it (it may hold a password). */
function readTarget(env) {
  let url;
  try {
    url = new URL(env.AMQP_URL || DEFAULT_URL);
  } catch {
    throw new BrokerError('AMQP_URL is not a valid URL (expected amqp://user:password@host:port)');
  }
  if (url.protocol !== 'amqp:' && url.protocol !== 'amqps:') {
    throw new BrokerError(`AMQP_URL must start with amqp:// or amqps://, not ${url.protocol}//`);
  }
  const useTls = url.protocol === 'amqps:';
  // WHATWG URL keeps IPv6 literals in brackets; sockets want them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port ? Number(url.port) : useTls ? 5671 : 5672;
  return { url, redacted: redact(url), host, port, useTls, isLocal: LOCAL_HOSTS.has(host) };
}

function redact(url) {
  const copy = new URL(url.href);
  if (copy.password) copy.password = '***';
  return copy.href;
}

// ---------------------------------------------------------------------------
// Is a broker answering?

/**
 * Sends the AMQP 0-9-1 protocol header and reads the first byte of the reply.
 * 'amqp'  : the server answered with a METHOD frame (connection.start);
 * 'none'  : nothing listens (refused, unknown host, timeout before connecting);
 * 'other' : something accepted the connection but does not speak AMQP 0-9-1.
 * No handshake: knowing that a broker listens is all `up` needs.
 */
function probe({ host, port, useTls }, timeoutMs = 3000) {
  return new Promise((resolve) => {
    let connected = false;
    const socket = useTls
      ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host })
      : net.connect({ host, port });
    const finish = (result) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    // One timer covers DNS, connect and the reply, so a black-holed host cannot hang us.
    const timer = setTimeout(() => finish(connected ? 'other' : 'none'), timeoutMs);
    socket.once(useTls ? 'secureConnect' : 'connect', () => {
      connected = true;
      socket.write(AMQP_091_HEADER);
    });
    socket.once('data', (chunk) => finish(chunk[0] === FRAME_METHOD ? 'amqp' : 'other'));
    socket.once('end', () => finish(connected ? 'other' : 'none'));
    socket.once('error', () => finish(connected ? 'other' : 'none'));
  });
}

// ---------------------------------------------------------------------------
// A throwaway RabbitMQ node under .broker/<port>/

/**
 * Finds the directory holding rabbitmq-server and rabbitmqctl. Debian's
 * /usr/sbin/rabbitmq-server is a wrapper that switches to the rabbitmq user and
 * drops our environment (and with it our private HOME, ports and paths), so the
 * real scripts in /usr/lib/rabbitmq/bin come first.
 */
function findRabbitmqBin() {
  const dirs = ['/usr/lib/rabbitmq/bin', ...(process.env.PATH ?? '').split(path.delimiter)];
  return dirs.find((dir) => dir && isExecutable(path.join(dir, 'rabbitmq-server'))) ?? null;
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Everything that identifies the throwaway node for one AMQP port. */
function localNode(port) {
  const dir = path.join(REPO, '.broker', String(port));
  return {
    port,
    distPort: port + DIST_PORT_OFFSET,
    name: `hello-rabbit-${port}@localhost`,
    dir,
    pidFile: path.join(dir, 'pid'),
    logDir: path.join(dir, 'log'),
    display: path.relative(process.cwd(), dir) || dir,
  };
}

/**
 * The node itself is @hello-rabbit/testkit's RabbitNode, the tests' own (as for
 * scripts/cluster.mjs), loaded only when a node is started or stopped: `status`, and `up`
 * with a broker that answers, need no build.
 */
async function loadTestkit() {
  const entry = path.join(REPO, 'tools', 'testkit', 'dist', 'index.js');
  if (!fs.existsSync(entry)) {
    throw new BrokerError(
      'run `pnpm build` first: starting and stopping a node uses @hello-rabbit/testkit (tools/testkit/dist)',
    );
  }
  return import(pathToFileURL(entry).href);
}

/** The RabbitNode descriptor of the node under .broker/<port>/, its files kept there. */
function descriptor(node, binDir) {
  const { name, port, distPort, dir } = node;
  return { name, port, distPort, dir, keepDir: true, ...(binDir ? { bin: binDir } : {}) };
}

/**
 * Waits for a booting node, printing progress every few seconds; resolves with the seconds
 * it took. A node that did not come up becomes one line that names its logs.
 */
async function waitForNode(node, booting, { attached }) {
  const started = Date.now();
  const progress = setInterval(() => {
    console.log(`broker: still booting (${Math.round((Date.now() - started) / 1000)} s)...`);
  }, PROGRESS_EVERY_MS);
  try {
    await booting;
  } catch (err) {
    if (err?.name !== 'NodeBootError') throw err;
    if (err.code === 'timeout') {
      throw new BrokerError(
        `${node.name} did not answer within ${BOOT_TIMEOUT_MS / 1000} s; see the logs in ${node.logDir}`,
      );
    }
    if (attached) throw new BrokerError(`${node.name} is no longer running; see the logs in ${node.logDir}`);
    throw new BrokerError(
      `${node.name} stopped while booting${err.exit ? ` (${err.exit})` : ''}; see the logs in ${node.logDir}`,
    );
  } finally {
    clearInterval(progress);
  }
  return Math.round((Date.now() - started) / 1000);
}

async function startLocalNode(target, binDir) {
  const node = localNode(target.port);
  if (node.distPort > 65535) {
    throw new BrokerError(
      `cannot start a node for port ${node.port}: its distribution port would be ${node.distPort}; ` +
        `use a port below ${65536 - DIST_PORT_OFFSET}`,
    );
  }
  warnAboutCredentials(target);
  const { RabbitNode } = await loadTestkit();
  const running = RabbitNode.attach(descriptor(node, binDir));
  const attached = running.pid() !== undefined;
  let booting;
  if (attached) {
    // An earlier `up` started this node and it is still booting (or stuck): a second
    // node with the same name and ports could not start, so wait for that one.
    console.log(`broker: ${node.name} is already starting; waiting for it to answer`);
    booting = running.whenAnswering();
  } else {
    console.log(
      `broker: starting a throwaway RabbitMQ node ${node.name} on 127.0.0.1:${node.port} ` +
        `(data and logs in ${node.display})`,
    );
    // AMQP on loopback only (127.0.0.1, plus ::1 when AMQP_URL names it), no plugins (so
    // no management port); guest/guest may log in, from loopback only: RabbitMQ's default.
    booting = RabbitNode.boot({
      name: node.name,
      port: node.port,
      dir: node.dir,
      ...(binDir ? { bin: binDir } : {}),
      config: target.host === '::1' ? [`listeners.tcp.2 = ::1:${node.port}`] : [],
    });
  }
  const seconds = await waitForNode(node, booting, { attached });
  console.log(`broker: RabbitMQ is up at ${target.redacted} (after ${seconds} s)`);
  console.log(`broker: stop it with \`pnpm broker:down\`${sameUrlHint()}`);
}

/** A fresh node knows only user guest and vhost "/"; say so rather than fail later. */
function warnAboutCredentials({ url }) {
  const user = decodeURIComponent(url.username);
  const vhost = decodeURIComponent(url.pathname.replace(/^\//, '')) || '/';
  if ((user && user !== 'guest') || vhost !== '/') {
    console.log('broker: note: the new node has only the default user guest and vhost "/"');
  }
}

function sameUrlHint() {
  return process.env.AMQP_URL ? ' (with the same AMQP_URL)' : '';
}

async function stopLocalNode(target, binDir) {
  const node = localNode(target.port);
  // No pid file: nothing `up` started runs here (and the testkit is not needed to say so).
  if (!fs.existsSync(node.pidFile)) return false;
  const { RabbitNode } = await loadTestkit();
  const rabbit = RabbitNode.attach(descriptor(node, binDir));
  const pid = rabbit.pid();
  if (pid === undefined) return false;
  if (!binDir) throw new BrokerError(`${node.name} runs (pid ${pid}) but rabbitmqctl is not found`);
  console.log(`broker: stopping ${node.name}`);
  // With the pid file, `rabbitmqctl stop` returns only once the VM has exited.
  try {
    await rabbit.shutdown(120_000);
  } catch (err) {
    throw new BrokerError(`rabbitmqctl could not stop ${node.name}: ${ctlFailure(err)}`);
  }
  console.log(`broker: stopped ${node.name} (its data stays in ${node.display})`);
  return true;
}

/** What went wrong with rabbitmqctl, from RabbitNode's error (its cause is execFile's). */
function ctlFailure(err) {
  const cause = err.cause ?? err;
  // A string code is a spawn error (ENOENT, ...); a number is rabbitmqctl's exit status.
  if (typeof cause.code === 'string' || (cause.stderr === undefined && cause.stdout === undefined))
    return cause.message;
  const line = `${cause.stderr ?? ''}\n${cause.stdout ?? ''}`.split('\n').find((l) => l.trim());
  return line?.trim() ?? `exit status ${cause.code ?? cause.signal}`;
}

// ---------------------------------------------------------------------------
// Docker Compose fallback (compose.yaml at the repository root)

const COMPOSE_FILE = path.join(REPO, 'compose.yaml');

function hasDockerCompose() {
  const result = spawnSync('docker', ['compose', 'version'], { stdio: 'ignore', timeout: 15_000 });
  return result.status === 0;
}

/** Runs docker compose on our compose.yaml; the host port follows AMQP_URL. */
function compose(args, target, stdio = 'inherit') {
  return spawnSync('docker', ['compose', '-f', COMPOSE_FILE, ...args], {
    env: { ...process.env, BROKER_AMQP_PORT: String(target.port) },
    stdio,
    encoding: 'utf8',
  });
}

async function startWithDocker(target) {
  if (!fs.existsSync(COMPOSE_FILE)) throw new BrokerError(`${COMPOSE_FILE} is missing`);
  warnAboutCredentials(target);
  console.log(`broker: starting rabbitmq:3.13-management with docker compose on port ${target.port}`);
  const result = compose(['up', '-d', '--wait'], target);
  if (result.status !== 0) throw new BrokerError('`docker compose up` failed (see above)');
  if ((await probe(target)) !== 'amqp') {
    throw new BrokerError(`the container started but nothing answers at ${target.redacted}`);
  }
  console.log(`broker: RabbitMQ is up at ${target.redacted} (management UI: http://localhost:15672)`);
  console.log(`broker: stop it with \`pnpm broker:down\`${sameUrlHint()}`);
}

function stopDocker(target) {
  if (!fs.existsSync(COMPOSE_FILE) || !hasDockerCompose()) return false;
  const running = compose(['ps', '-q'], target, ['ignore', 'pipe', 'pipe']);
  if (running.status !== 0 || !running.stdout.trim()) return false;
  const result = compose(['down'], target);
  if (result.status !== 0) throw new BrokerError('`docker compose down` failed (see above)');
  console.log('broker: stopped the docker compose broker');
  return true;
}

// ---------------------------------------------------------------------------
// Commands

async function up() {
  const target = readTarget(process.env);
  const answer = await probe(target);
  if (answer === 'amqp') {
    console.log(`broker: using the RabbitMQ at ${target.redacted}`);
    return 0;
  }
  if (!target.isLocal) {
    throw new BrokerError(`the broker at ${target.redacted} does not answer`);
  }
  if (answer === 'other') {
    throw new BrokerError(
      `something that is not an AMQP 0-9-1 broker listens on ${target.host}:${target.port}; ` +
        'free the port or change AMQP_URL',
    );
  }
  const binDir = findRabbitmqBin();
  if (binDir && target.useTls) {
    throw new BrokerError('a throwaway node speaks plain amqp:// only; use an amqp:// AMQP_URL');
  }
  if (binDir) {
    await startLocalNode(target, binDir);
    return 0;
  }
  if (hasDockerCompose()) {
    await startWithDocker(target);
    return 0;
  }
  console.error(`broker: nothing answers at ${target.redacted} and no RabbitMQ is installed; ${INSTALL_HELP[0]}`);
  for (const line of INSTALL_HELP.slice(1)) console.error(line);
  return 1;
}

async function down() {
  const target = readTarget(process.env);
  if (target.isLocal && (await stopLocalNode(target, findRabbitmqBin()))) return 0;
  if (target.isLocal && stopDocker(target)) return 0;
  console.log(
    `broker: nothing to stop for ${target.redacted} (only brokers started by \`pnpm broker:up\` are stopped)`,
  );
  return 0;
}

/** Exit 0 when an AMQP 0-9-1 broker answers at AMQP_URL, 1 otherwise: for scripts and CI. */
async function status() {
  const target = readTarget(process.env);
  const answer = await probe(target);
  if (answer === 'amqp') {
    console.log(`broker: a RabbitMQ answers at ${target.redacted}`);
    return 0;
  }
  console.error(`broker: no AMQP broker answers at ${target.redacted}`);
  return 1;
}

async function main(argv) {
  const commands = { up, down, status };
  const command = commands[argv[0]];
  if (!command || argv.length > 1) {
    console.error('usage: node scripts/broker.mjs up|down|status');
    return 2;
  }
  try {
    return await command();
  } catch (err) {
    // One line, no stack trace; messages are built from the redacted URL only.
    const message = err instanceof Error ? err.message : String(err);
    console.error(`broker: ${err instanceof BrokerError ? '' : 'unexpected error: '}${message}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
