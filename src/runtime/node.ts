import { runCli } from './cli.js';

// The Node entry: `portcullis` on the command line and `npm start`.
const code = await runCli(process.argv.slice(2), process.env, process);
if (code !== undefined) process.exitCode = code;
