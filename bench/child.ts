import { startTarget, type TargetKind, type TargetOptions } from './targets.js';

// The server side of a benchmark in its own process, so it has an event loop of its own: started by run.ts with
// the target kind as argument and its options in BENCH_TARGET. It reports its URL, answers 'cpu' with its CPU
// time, and stops on 'close'.
const kind = process.argv[2] as TargetKind;
const options = JSON.parse(process.env.BENCH_TARGET ?? '{}') as TargetOptions;
const target = await startTarget(kind, options);
process.on('message', (message) => {
  if (message === 'cpu') process.send?.({ cpu: process.cpuUsage() });
  if (message === 'close') void target.close().then(() => process.disconnect());
});
process.send?.({ url: target.url });
