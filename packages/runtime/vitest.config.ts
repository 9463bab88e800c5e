import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Integration tests start processes and talk to a real broker on a shared 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
