#!/usr/bin/env node
// A real three-node RabbitMQ cluster on this machine, to try failover locally:
//
//   node scripts/cluster.mjs up [--size N]   (pnpm cluster:up)   boots and joins N nodes (3)
//   node scripts/cluster.mjs status          (pnpm cluster:status) the running members
//   node scripts/cluster.mjs down            (pnpm cluster:down)   stops them, removes their data
//
// Each node is a rabbitmq-server of its own, on free ports, with its data, logs and pid
// file under a temporary directory; they share an Erlang cookie and are joined with
// `rabbitmqctl join_cluster`. Never the broker on 5672. The nodes are described in
// <repo>/.cluster/cluster.json (git-ignored) for `status` and `down`. Needs RabbitMQ
// installed (its scripts in /usr/lib/rabbitmq/bin, or RABBITMQ_BIN) and `pnpm build`
// (it uses @hello-rabbit/testkit's RabbitCluster, the tests' own).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STATE = path.join(process.env.CLUSTER_STATE_DIR ?? path.join(REPO, '.cluster'), 'cluster.json');
const USAGE = 'usage: node scripts/cluster.mjs up [--size N] | status | down';

class UsageError extends Error {}

async function loadTestkit() {
  const entry = path.join(REPO, 'tools', 'testkit', 'dist', 'index.js');
  if (!fs.existsSync(entry))
    throw new Error('run `pnpm build` first: the cluster script uses @hello-rabbit/testkit (tools/testkit/dist)');
  return import(entry);
}

function readState() {
  try {
    return JSON.parse(fs.readFileSync(STATE, 'utf8'));
  } catch {
    return undefined;
  }
}

function parseSize(args) {
  if (args.length === 0) return 3;
  if (args.length === 2 && args[0] === '--size' && /^[1-9]$/.test(args[1])) return Number(args[1]);
  throw new UsageError(`bad arguments '${args.join(' ')}': --size takes a number of nodes from 1 to 9`);
}

async function up(args) {
  const size = parseSize(args);
  if (readState() !== undefined) throw new Error(`a cluster is already up (${STATE}): run \`pnpm cluster:down\` first`);
  const { RabbitCluster } = await loadTestkit();
  process.stdout.write(`booting ${size} nodes and joining them (tens of seconds)...\n`);
  const cluster = await RabbitCluster.boot(size, { label: 'cluster' });
  fs.mkdirSync(path.dirname(STATE), { recursive: true });
  fs.writeFileSync(STATE, `${JSON.stringify(cluster.descriptor, null, 2)}\n`);
  process.stdout.write(`cluster up: ${cluster.nodes.map((node) => node.name).join(', ')}\n`);
  for (const url of cluster.urls()) process.stdout.write(`  ${url}\n`);
  process.stdout.write('stop it with: pnpm cluster:down\n');
}

async function status() {
  const state = readState();
  if (state === undefined) {
    process.stdout.write('no cluster is up (pnpm cluster:up starts one)\n');
    return 1;
  }
  const { RabbitCluster } = await loadTestkit();
  const cluster = RabbitCluster.attach(state);
  const running = await cluster.runningNodes().catch(() => []);
  for (const [i, node] of cluster.nodes.entries()) {
    const pid = node.pid();
    process.stdout.write(
      `${running.includes(node.name) ? 'running' : 'down   '}  ${node.name}  ${cluster.urls()[i]}  ` +
        `${pid === undefined ? '' : `pid ${pid}`}\n`,
    );
  }
  return running.length === cluster.nodes.length ? 0 : 1;
}

async function down() {
  const state = readState();
  if (state === undefined) {
    process.stdout.write('no cluster is up\n');
    return;
  }
  const { RabbitCluster } = await loadTestkit();
  await RabbitCluster.attach(state).stop();
  fs.rmSync(STATE, { force: true });
  process.stdout.write('cluster stopped, its data removed\n');
}

async function main(argv) {
  const [command, ...args] = argv;
  if (command === 'up') {
    await up(args);
    return 0;
  }
  if (args.length > 0) throw new UsageError(`'${command}' takes no arguments`);
  if (command === 'status') return status();
  if (command === 'down') {
    await down();
    return 0;
  }
  throw new UsageError(command === undefined ? 'no command' : `unknown command '${command}'`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`cluster: ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof UsageError) process.stderr.write(`${USAGE}\n`);
    process.exit(err instanceof UsageError ? 64 : 1);
  },
);
