import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

/**
 * Tests that run inside workerd, the Workers runtime, with the Worker of wrangler.toml (its Durable Objects and
 * bindings). Miniflare needs Node 22: `npm test` runs this project with the Node 22 of the npm package node@22.
 */
export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: './wrangler.toml' } })],
  test: {
    include: ['test/workers/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
