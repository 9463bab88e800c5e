import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // The cluster scenario's test runs on its own, after every package's tests
    // (`test:cluster`, vitest.cluster.config.ts): booting Erlang VMs beside everything
    // else on two cores can take minutes.
    exclude: ['test/cluster.int.test.ts', '**/node_modules/**'],
    // The smoke run starts a few dozen node processes against the broker: slow on 2 cores.
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});
