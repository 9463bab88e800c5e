// The unit tier, `pnpm test:unit`: every package's `src/**/*.test.ts`, run from the
// package's folder (`vitest run --config ../../vitest.unit.config.ts`), without the global
// setups of the integration tests: no broker, no Redis, no Python. A plain object, so that
// the root needs no vitest of its own.
export default {
  test: {
    include: ['src/**/*.test.ts'],
  },
};
