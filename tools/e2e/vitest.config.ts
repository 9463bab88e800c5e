import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starts pnpm, node and pnpm deploy: slow on a shared 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // The files share the pnpm store and the build outputs; one at a time is gentler.
    fileParallelism: false,
  },
});
