import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The Node 22 binary of the npm package `node@22` (a dev dependency). Tools that need Node 22 — the MCP
 * conformance suite, MCP Inspector — run on it while the gateway and vitest stay on the machine's Node.
 */
export const NODE22 = fileURLToPath(new URL('../../node_modules/node/bin/node', import.meta.url));

/** The version the Node 22 binary reports, e.g. `v22.23.3`; throws when the package is not installed. */
export function node22Version(): string {
  const result = spawnSync(NODE22, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (result.error) throw new Error(`cannot run ${NODE22} (is the dev dependency "node@22" installed?): ${result.error.message}`);
  return result.stdout.trim();
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process running on Node 22, with its output collected as it arrives. */
export interface Node22Process {
  readonly child: ChildProcess;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout; rejects after `timeoutMs` or if the process exits first. */
  waitForStdout(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** Resolves when the process exits; rejects after `timeoutMs`. */
  waitForExit(timeoutMs: number): Promise<Exit>;
  /** Ends the process (SIGTERM, then SIGKILL after a grace period) unless it already exited. */
  kill(): Promise<void>;
}

export interface RunOptions {
  cwd: string;
  /** Added to (and overriding) the test process's environment; point HOME at a temporary folder. */
  env?: Record<string, string>;
}

/** Runs `node22 <args>` as a child process. The caller must `kill()` it when done (e.g. in `afterAll`). */
export function runNode22(args: readonly string[], options: RunOptions): Node22Process {
  const child = spawn(NODE22, args, {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) listener();
  };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    notify();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.once('error', (error) => {
      err += `\n[spawn error] ${error.message}`;
      exit = { code: null, signal: null };
      notify();
      resolve(exit);
    });
    // 'close' rather than 'exit': by then stdout and stderr are fully read.
    child.once('close', (code, signal) => {
      exit = { code, signal };
      notify();
      resolve(exit);
    });
  });

  const describe = () => `\n--- stdout ---\n${out}\n--- stderr ---\n${err}`;

  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitForStdout(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(out);
          if (match) return finish(() => resolve(match));
          if (exit) return finish(() => reject(new Error(`the process exited (${JSON.stringify(exit)}) before printing ${pattern}${describe()}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}${describe()}`))), timeoutMs);
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    waitForExit(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for the process to exit${describe()}`)), timeoutMs);
      });
      return Promise.race([exited, timeout]).finally(() => clearTimeout(timer));
    },
    async kill() {
      if (exit || child.pid === undefined) return;
      child.kill('SIGTERM');
      const grace = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(grace);
    },
  };
}
