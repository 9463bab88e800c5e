import { defineConfig } from 'vitest/config';

/**
 * The test that boots a three-node cluster of its own. `pnpm test` runs it after every
 * package's tests, one serial task at a time (the order is in turbo.json).
 */
export default defineConfig({
  test: {
    include: ['test/rabbit-cluster.int.test.ts', 'test/partition-cluster.int.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
