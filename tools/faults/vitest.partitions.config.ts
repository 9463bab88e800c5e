import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** The scenarios in the order of the table (issue 18's): each file's name without `.test.ts`. */
const SCENARIO_ORDER = ['isolate', 'leader-isolate', 'split', 'flapping', 'heal-restart'];

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
 * The partition suite: the built apps against a three-node cluster whose nodes are cut off
 * from each other for real (each in a network namespace; see test-partitions/). Needs root.
 * `pnpm test` runs it after the cluster suite, one scenario at a time.
 */
export default defineConfig({
  test: {
    include: ['test-partitions/**/*.test.ts'],
    globalSetup: ['./src/partition-global-setup.ts'],
    fileParallelism: false,
    sequence: { sequencer: TableOrder },
    // A scenario runs 20,000 tasks through a partition (detected after 11 to 19 s), heals
    // it, and waits for the cluster to be whole again, on a shared 2-core machine.
    testTimeout: 420_000,
    hookTimeout: 300_000,
    teardownTimeout: 180_000,
  },
});
