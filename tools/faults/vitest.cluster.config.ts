import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** The scenarios in the order of the table (issue 7's): each file's name without `.test.ts`. */
const SCENARIO_ORDER = ['node-kill', 'node-restart', 'leader-kill', 'minority-cut'];

/** Runs the scenario files in the table's order, so that the printed table keeps it. */
class TableOrder extends BaseSequencer {
  override sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const i = SCENARIO_ORDER.indexOf(path.basename(file.moduleId, '.test.ts'));
      return i === -1 ? SCENARIO_ORDER.length : i;
    };
    return Promise.resolve([...files].sort((a, b) => rank(a) - rank(b) || a.moduleId.localeCompare(b.moduleId)));
  }
}

/**
 * The cluster suite: the built apps against a real three-node RabbitMQ cluster of the
 * suite's own (see test-cluster/). `pnpm test` runs it after the single-node suite.
 */
export default defineConfig({
  test: {
    include: ['test-cluster/**/*.test.ts'],
    // One private three-node cluster for the whole suite, booted here and stopped at the end
    // (after printing the table of every scenario's books).
    globalSetup: ['./src/cluster-global-setup.ts'],
    // The scenarios share the cluster (and kill, stop and cut its nodes): one file at a time.
    fileParallelism: false,
    sequence: { sequencer: TableOrder },
    // A scenario runs 20,000 messages through a fault, then waits for the cluster to be
    // whole again, on a shared 2-core machine.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // Stopping three nodes (rabbitmqctl stop) takes seconds; vitest's default would cut it short.
    teardownTimeout: 180_000,
  },
});
