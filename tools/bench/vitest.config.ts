import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // The runs of the benchmark itself (the quick smoke run, the cluster scenario) run on
    // their own, after every package's tests (`test:serial`, vitest.serial.config.ts): they
    // measure, start dozens of processes and boot Erlang VMs, and beside everything else on
    // two cores they took minutes.
    exclude: ['test/**/*.int.test.ts', '**/node_modules/**'],
    // The unit tests left here include a few pump runs against the broker.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
