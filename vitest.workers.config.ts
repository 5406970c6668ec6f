import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { WORKER_CONFIG } from './test/workers/config.js';

/**
 * Tests that run inside workerd, the Workers runtime, with the Worker of wrangler.toml (its Durable Objects and
 * bindings). Miniflare needs Node 22: `npm test` runs this project with the Node 22 of the npm package node@22.
 */
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml' },
      // In place of the configuration for `wrangler dev` in wrangler.toml, and of the secret a deployment has.
      miniflare: { bindings: { PORTCULLIS_CONFIG: JSON.stringify(WORKER_CONFIG), PORTCULLIS_ENCRYPTION_KEY: 'a-key-made-for-the-workerd-tests-only-0123456789' } },
    }),
  ],
  test: {
    include: ['test/workers/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
