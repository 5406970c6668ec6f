import { builtinModules } from 'node:module';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildWorker, type WorkerBundle } from '../helpers/wrangler.js';

// Workers' limits on a Worker's size after compression: 3 MB on the Free plan (10 MB on paid plans).
const FREE_PLAN_GZIP_LIMIT = 3 * 1024 * 1024;
/** Packages and modules of ours that only Node can run. None of them may reach the Worker. */
const NODE_ONLY_PACKAGES = ['ioredis', 'pino', '@hono/node-server', 'cross-spawn', 'ajv', 'ajv-formats'];
const NODE_ONLY_SOURCES = ['src/store/redis.ts', 'src/runtime/serve.ts', 'src/runtime/cli.ts', 'src/runtime/stdio.ts', 'src/runtime/guarded-fetch.ts', 'src/runtime/ip-policy.ts', 'src/runtime/client-address.ts'];

let bundle: WorkerBundle;
beforeAll(async () => {
  bundle = await buildWorker();
}, 180_000);

describe('the Worker bundle (wrangler deploy --dry-run)', () => {
  it('imports nothing from outside but the Workers runtime: no Node built-in, not even through node: aliases', () => {
    const external = new Set(Object.values(bundle.inputs).flatMap((input) => input.imports.filter((entry) => entry.external).map((entry) => entry.path)));
    // `<runtime>` is esbuild's own helper module, inlined into the bundle.
    expect([...external].sort()).toEqual(['<runtime>', 'cloudflare:workers']);
    const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
    const imported = Object.values(bundle.inputs).flatMap((input) => input.imports.map((entry) => entry.path));
    expect(imported.filter((path) => builtins.has(path))).toEqual([]);
  });

  it('contains no Node-only package and none of our Node-only modules', () => {
    const files = Object.keys(bundle.inputs);
    const packages = new Set(files.map((file) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1]).filter((name) => name !== undefined));
    expect(NODE_ONLY_PACKAGES.filter((name) => packages.has(name))).toEqual([]);
    expect(NODE_ONLY_SOURCES.filter((source) => files.includes(source))).toEqual([]);
    // And it does contain the gateway: the Worker entry, the Durable Objects and the shared app.
    expect(files).toEqual(expect.arrayContaining(['src/runtime/worker.ts', 'src/store/durable-object.ts', 'src/app.ts', 'oauth/server.ts']));
  });

  it('fits within the Free plan’s size limit after compression', () => {
    expect(gzipSync(bundle.code).byteLength).toBeLessThan(FREE_PLAN_GZIP_LIMIT);
  });
});
