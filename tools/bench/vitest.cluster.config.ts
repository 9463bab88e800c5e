import { defineConfig } from 'vitest/config';

/**
 * The test of the cluster scenario, which boots three nodes of its own. `pnpm test` runs it
 * after every package's tests, one cluster at a time (`turbo run test:cluster --concurrency=1`).
 */
export default defineConfig({
  test: {
    include: ['test/cluster.int.test.ts'],
    // The run itself is the test's beforeAll, which sets its own time (3 minutes).
    testTimeout: 180_000,
  },
});
