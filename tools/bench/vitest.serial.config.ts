import { defineConfig } from 'vitest/config';

/**
 * The runs of the benchmark itself: the quick smoke run and the cluster scenario, which
 * boots three nodes of its own. `pnpm test` runs them after every package's tests, one
 * serial task at a time (the order is in turbo.json), and one file at a time.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.int.test.ts'],
    fileParallelism: false,
    // Each file's run is its beforeAll, which sets its own time.
    testTimeout: 180_000,
  },
});
