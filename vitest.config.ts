import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Those run inside workerd: vitest.workers.config.ts.
    exclude: ['test/workers/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Test files start their own gateways on free ports, so they run in parallel.
    pool: 'forks',
  },
});
