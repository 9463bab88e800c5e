import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // The smoke run starts a few dozen node processes against the broker: slow on 2 cores.
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});
