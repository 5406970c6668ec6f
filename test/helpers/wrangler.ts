import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNode22 } from './node22.js';
import { freePort } from './ports.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const WRANGLER = join(ROOT, 'node_modules/wrangler/bin/wrangler.js');

/** What esbuild's metafile says of one input file. */
interface MetaInput {
  imports: Array<{ path: string; kind: string; external?: boolean }>;
}

export interface WorkerBundle {
  /** The bundled Worker, as wrangler would upload it. */
  code: Buffer;
  /** esbuild's metafile: every input and what it imports. */
  inputs: Record<string, MetaInput>;
  /** What wrangler printed. */
  output: string;
}

/** Builds the Worker of wrangler.toml the way `wrangler deploy` does (`--dry-run`: nothing leaves the machine). */
export async function buildWorker(): Promise<WorkerBundle> {
  const outdir = await mkdtemp(join(tmpdir(), 'portcullis-worker-'));
  const build = runNode22([WRANGLER, 'deploy', '--dry-run', '--outdir', outdir, '--metafile'], {
    cwd: ROOT,
    env: { WRANGLER_SEND_METRICS: 'false', HOME: outdir },
  });
  const exit = await build.waitForExit(120_000);
  if (exit.code !== 0) throw new Error(`wrangler deploy --dry-run failed (${exit.code ?? exit.signal}):\n${build.stdout()}\n${build.stderr()}`);
  const meta = JSON.parse(await readFile(join(outdir, 'bundle-meta.json'), 'utf8')) as { inputs: Record<string, MetaInput> };
  return { code: await readFile(join(outdir, 'worker.js')), inputs: meta.inputs, output: build.stdout() };
}

/** The Worker of wrangler.toml served by `wrangler dev` (workerd, local mode) on a loopback port. */
export interface WorkerGateway {
  baseUrl: string;
  /** The default tenant's MCP endpoint. */
  resource: string;
  /** Everything wrangler and the Worker printed so far (the Worker logs JSON lines). */
  output(): string;
  close(): Promise<void>;
}

/**
 * Runs the Worker under `wrangler dev` on Node 22 with `config` as PORTCULLIS_CONFIG (publicUrl and the Durable Object
 * store filled in) and a fresh encryption key as a secret, both through an env file as `wrangler secret put` would
 * provide them in production. State lives in a temporary folder, so each call starts empty.
 */
export async function startWorker(config: Record<string, unknown>): Promise<WorkerGateway> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-wrangler-'));
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const baseUrl = `http://127.0.0.1:${port}`;
  const document = JSON.stringify({ publicUrl: baseUrl, store: { type: 'durable-objects' }, ...config });
  if (document.includes("'")) throw new Error('the configuration cannot be written as a single-quoted env value');
  const envFile = join(dir, 'test.env');
  // wrangler expands $NAME in env files, quoted or not; \$ keeps a dollar sign (password hashes have them).
  await writeFile(envFile, `PORTCULLIS_CONFIG='${document.replaceAll('$', '\\$')}'\nPORTCULLIS_ENCRYPTION_KEY=${randomBytes(32).toString('base64url')}\n`);
  const dev = runNode22(
    [WRANGLER, 'dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort), '--env-file', envFile, '--persist-to', join(dir, 'state'), '--show-interactive-dev-session=false'],
    { cwd: ROOT, env: { WRANGLER_SEND_METRICS: 'false', HOME: dir } },
  );
  const close = async () => {
    await dev.kill();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await dev.waitForStdout(/Ready on http/, 90_000);
    // Ready means listening; the first request also starts the gateway (configuration, keys in the store).
    const health = await fetch(`${baseUrl}/healthz`);
    if (health.status !== 200) throw new Error(`the Worker answered /healthz with ${health.status}: ${await health.text()}`);
  } catch (error) {
    await close();
    throw new Error(`wrangler dev did not start the Worker: ${(error as Error).message}\n${dev.stdout()}\n${dev.stderr()}`);
  }
  return { baseUrl, resource: `${baseUrl}/mcp`, output: () => dev.stdout() + dev.stderr(), close };
}
