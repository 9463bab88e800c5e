import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { NetnsNetwork, PartitionCluster, type PartitionClusterDescriptor } from '@hello-rabbit/testkit';
import { requireWorkQueueApps } from './apps.js';
import { readRows, renderTable } from './books.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The partition suite's three nodes, each in a network namespace of its own. */
    faultPartitionCluster: PartitionClusterDescriptor;
  }
}

/** The name prefix the partition suite owns: namespaces hrp-n1..3, links hrp-br0, hrp-v1..3. */
export const PARTITION_PREFIX = 'hrp';
/** The private /24 of the suite's network: the nodes are .11 to .13. */
export const PARTITION_SUBNET = '10.213.0';
/** The nodes' net_ticktime: a silent peer is declared down after 11 to 19 s (RabbitMQ's default 60 s: 45 to 75 s). */
export const NET_TICKTIME_SECONDS = 15;

/**
 * Boots the partition suite's cluster: three RabbitMQ nodes, each in a network namespace
 * of its own on a private bridge (10.213.0.11-13), pause_minority. Sweeps what an earlier
 * run (a crash, a Ctrl+C) left under the prefix first; on SIGINT, SIGTERM or exit removes
 * the namespaces, links, nodes and files at once; at the end prints the books of every
 * scenario as one table, with the suite's run time. Needs root: without it, fails with one
 * line saying why.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  await requireWorkQueueApps();
  const rowsDir = mkdtempSync(path.join(tmpdir(), 'hello-rabbit-faults-partition-books-'));
  const rowsFile = path.join(rowsDir, 'rows.jsonl');
  const sweep = () => {
    killStrayApps(PARTITION_SUBNET);
    NetnsNetwork.sweepSync(PARTITION_PREFIX);
    rmSync(rowsDir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    sweep();
    // Then the signal's own effect (the listener took its default away).
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', sweep);
  let cluster: PartitionCluster;
  try {
    cluster = await PartitionCluster.start({
      prefix: PARTITION_PREFIX,
      subnet: PARTITION_SUBNET,
      label: 'part',
      netTicktimeSeconds: NET_TICKTIME_SECONDS,
    });
  } catch (err) {
    rmSync(rowsDir, { recursive: true, force: true });
    throw err;
  }
  project.provide('faultPartitionCluster', cluster.descriptor);
  project.provide('faultRows', rowsFile);
  return async () => {
    const rows = readRows(rowsFile);
    const minutes = ((Date.now() - started) / 60_000).toFixed(1);
    if (rows.length > 0) {
      process.stdout.write(
        renderTable(
          rows,
          `Partition suite (3 nodes in network namespaces, pause_minority, net_ticktime ${NET_TICKTIME_SECONDS} s; ` +
            `suite run time ${minutes} min)`,
        ),
      );
    }
    rmSync(rowsDir, { recursive: true, force: true });
    await cluster.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', sweep);
  };
}

/**
 * On a signal the test files' workers die and the apps they started (producer, workers)
 * would go on trying the nodes' addresses: kills every process whose AMQP_HOSTS names an
 * address of the suite's private subnet (only the suite's apps can have one).
 */
function killStrayApps(subnet: string): void {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const hosts = readFileSync(`/proc/${entry}/environ`, 'utf8')
        .split('\0')
        .find((variable) => variable.startsWith('AMQP_HOSTS='));
      if (hosts?.includes(`${subnet}.`) === true) process.kill(Number(entry), 'SIGKILL');
    } catch {
      // gone, or not ours to read
    }
  }
}
