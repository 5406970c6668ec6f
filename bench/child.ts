import { ownMemory, startTarget, type TargetKind, type TargetOptions } from './targets.js';

// The server side of a benchmark in its own process, so it has an event loop of its own: started by run.ts with
// the target kind as argument and its options in BENCH_TARGET. It reports its URL and when its start-up steps
// ended, answers 'cpu' with its CPU time, 'memory' with its memory (after a full GC under --expose-gc) and
// { get: key } with the value of that key in the gateway's store ({ stored }, null when absent), and stops on 'close'.
// performance.now() counts from the start of the process; the static imports above are loaded by now.
const importedMs = performance.now();
const kind = process.argv[2] as TargetKind;
const options = JSON.parse(process.env.BENCH_TARGET ?? '{}') as TargetOptions;
let configuredMs = importedMs;
const target = await startTarget(kind, options, () => {
  configuredMs = performance.now();
});
const readyMs = performance.now();
process.on('message', (message) => {
  if (message === 'cpu') process.send?.({ cpu: process.cpuUsage() });
  if (message === 'memory') void ownMemory().then((memory) => process.send?.({ memory }));
  if (message === 'close') void target.close().then(() => process.disconnect());
  if (typeof message === 'object' && message !== null && 'get' in message && target.storeGet !== undefined) {
    void target.storeGet(String(message.get)).then((value) => process.send?.({ stored: value ?? null }));
  }
});
process.send?.({ url: target.url, startup: { importedMs, configuredMs, readyMs } });
