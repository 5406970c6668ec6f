import { dirname } from 'node:path';
import { convertV4MiniflareOptions, Miniflare, type MiniflareOptions } from 'miniflare';

// The workerd side of bench/worker.ts, run on Node 22 (Miniflare needs it) with the Worker bundle wrangler built.
//
//   node22 workerd.js serve <worker.js> <port>    serves the Worker on 127.0.0.1:<port> with the configuration in
//                                                 BENCH_WORKER_CONFIG; forked with IPC, it sends { pid } when ready
//                                                 and stops on 'close'
//   node22 workerd.js startup <worker.js> <n>     starts workerd n times with the Worker and with an empty Worker and
//                                                 prints the timings as JSON

const COMPATIBILITY_DATE = '2026-11-01';
const EMPTY_WORKER = 'export default { fetch() { return new Response("ok"); } };';

function gatewayOptions(scriptPath: string, config: string, port?: number): MiniflareOptions {
  return convertV4MiniflareOptions({
    modules: true,
    scriptPath,
    modulesRoot: dirname(scriptPath),
    compatibilityDate: COMPATIBILITY_DATE,
    durableObjects: { STORE: { className: 'StoreObject', useSQLite: true }, SESSIONS: { className: 'SessionObject', useSQLite: true } },
    bindings: { PORTCULLIS_CONFIG: config, PORTCULLIS_ENCRYPTION_KEY: 'bench-only-key-bench-only-key-0123456789' },
    host: '127.0.0.1',
    ...(port !== undefined && { port }),
  });
}

async function serve(scriptPath: string, port: number): Promise<void> {
  const worker = new Miniflare(gatewayOptions(scriptPath, process.env.BENCH_WORKER_CONFIG ?? '', port));
  await worker.ready;
  process.send?.({ ready: true });
  process.on('message', (message) => {
    if (message === 'close') void worker.dispose().then(() => process.exit(0));
  });
}

/** Milliseconds from `new Miniflare` to ready, then of the first and the second request (the gateway starts on the first). */
async function startOnce(options: MiniflareOptions): Promise<{ readyMs: number; firstMs: number; secondMs: number }> {
  const began = performance.now();
  const worker = new Miniflare(options);
  await worker.ready;
  const ready = performance.now();
  const first = await worker.dispatchFetch('http://127.0.0.1/healthz');
  if (first.status !== 200) throw new Error(`/healthz answered ${first.status}: ${await first.text()}`);
  const answered = performance.now();
  await (await worker.dispatchFetch('http://127.0.0.1/healthz')).text();
  const again = performance.now();
  await worker.dispose();
  return { readyMs: ready - began, firstMs: answered - ready, secondMs: again - answered };
}

async function startup(scriptPath: string, rounds: number): Promise<void> {
  const config = JSON.stringify({ publicUrl: 'http://127.0.0.1', store: { type: 'durable-objects' }, tenants: [{ id: 'default' }], logLevel: 'error' });
  const empty = convertV4MiniflareOptions({ modules: true, script: EMPTY_WORKER, compatibilityDate: COMPATIBILITY_DATE });
  const results: { gateway: unknown[]; empty: unknown[] } = { gateway: [], empty: [] };
  // Interleaved, so a busy moment of the machine falls on both.
  for (let round = 0; round < rounds; round++) {
    results.empty.push(await startOnce(empty));
    results.gateway.push(await startOnce(gatewayOptions(scriptPath, config)));
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

const [mode, scriptPath, count] = process.argv.slice(2);
if (mode === 'serve' && scriptPath !== undefined) await serve(scriptPath, Number(count));
else if (mode === 'startup' && scriptPath !== undefined) await startup(scriptPath, Number(count ?? 10));
else {
  process.stderr.write('usage: workerd.js serve <worker.js> <port> | startup <worker.js> <rounds>\n');
  process.exitCode = 2;
}
