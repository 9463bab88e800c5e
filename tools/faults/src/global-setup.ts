import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { requireWorkQueueApps } from './apps.js';
import { readRows, renderTable } from './books.js';
import { RabbitNode, type NodeDescriptor } from '@hello-rabbit/testkit';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The suite's own RabbitMQ node (never the shared broker). */
    faultNode: NodeDescriptor;
    /** The file where each scenario adds its row of the table. */
    faultRows: string;
  }
}

/**
 * Boots ONE private RabbitMQ node for the whole suite (each scenario makes its own vhost
 * on it), and at the end prints the books of every scenario as one table, then stops the
 * node and removes its files.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await requireWorkQueueApps();
  const rowsDir = mkdtempSync(path.join(tmpdir(), 'hello-rabbit-faults-books-'));
  const rowsFile = path.join(rowsDir, 'rows.jsonl');
  const node = await RabbitNode.boot({ label: 'faults' });
  project.provide('faultNode', node.descriptor);
  project.provide('faultRows', rowsFile);
  return async () => {
    const rows = readRows(rowsFile);
    if (rows.length > 0) process.stdout.write(renderTable(rows));
    rmSync(rowsDir, { recursive: true, force: true });
    await node.stop();
  };
}
