import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // One private RabbitMQ node for the whole suite, booted here and stopped at the end
    // (after printing the table of every scenario's books).
    globalSetup: ['./src/global-setup.ts'],
    // The scenarios share that node (and bounce, crash and restart it): one file at a time.
    fileParallelism: false,
    // Scenarios run thousands of messages through faults on a shared 2-core machine.
    testTimeout: 240_000,
    hookTimeout: 120_000,
    // Stopping the node (rabbitmqctl stop) takes seconds; vitest's default would cut it short.
    teardownTimeout: 120_000,
  },
});
