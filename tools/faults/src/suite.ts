import { inject } from 'vitest';
import { RabbitNode } from '@hello-rabbit/testkit';

/** The suite's own node, booted by the global setup (never the shared broker). */
export function suiteNode(): RabbitNode {
  return RabbitNode.attach(inject('faultNode'));
}

/** Where a scenario adds its row to the suite's table. */
export function rowsFile(): string {
  return inject('faultRows');
}

/**
 * Brings the node back when a failed scenario left it down (app stopped, or VM killed), so
 * that one failure does not fail every scenario after it.
 */
export async function ensureNodeUp(node: RabbitNode): Promise<void> {
  if (await node.isAnswering()) return;
  if (node.pid() === undefined) await node.restart();
  else await node.startApp();
}
