import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { RabbitCluster, type ClusterDescriptor } from '@hello-rabbit/testkit';
import { requireWorkQueueApps } from './apps.js';
import { readRows, renderTable } from './books.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The cluster suite's own three RabbitMQ nodes (never the shared broker). */
    faultCluster: ClusterDescriptor;
    /** The file where each scenario adds its row of the table. */
    faultRows: string;
  }
}

/** Nodes in the suite's cluster: a majority (2) survives the loss of any one. */
export const CLUSTER_SIZE = 3;

/**
 * Boots ONE private three-node RabbitMQ cluster for the whole cluster suite (each scenario
 * makes its own vhost on it), and at the end prints the books of every scenario as one
 * table, then stops the nodes and removes their files.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await requireWorkQueueApps();
  const rowsDir = mkdtempSync(path.join(tmpdir(), 'hello-rabbit-faults-cluster-books-'));
  const rowsFile = path.join(rowsDir, 'rows.jsonl');
  const cluster = await RabbitCluster.boot(CLUSTER_SIZE, { label: 'faults-cluster' });
  project.provide('faultCluster', cluster.descriptor);
  project.provide('faultRows', rowsFile);
  return async () => {
    const rows = readRows(rowsFile);
    if (rows.length > 0) process.stdout.write(renderTable(rows, `Cluster fault suite (${CLUSTER_SIZE} nodes)`));
    rmSync(rowsDir, { recursive: true, force: true });
    await cluster.stop();
  };
}
