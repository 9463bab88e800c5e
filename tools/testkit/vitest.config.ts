import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The three-node cluster's test runs on its own, after every package's tests
    // (`test:serial`, vitest.serial.config.ts): booting Erlang VMs beside everything
    // else on two cores can take minutes.
    exclude: ['test/rabbit-cluster.int.test.ts', 'test/partition-cluster.int.test.ts', '**/node_modules/**'],
    // Integration tests start processes and talk to a real broker on a shared 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
