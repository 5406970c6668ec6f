import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tokenHash } from '../../oauth/crypto.js';
import { verifyPassword } from '../../oauth/password.js';
import { runCli } from '../../src/runtime/cli.js';
import { demoPasswordHash, spawnGateway } from '../helpers/gateway.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string } = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, options.env ?? {}, {
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

describe('portcullis check-config', () => {
  test('accepts a valid file', async () => {
    const file = join(dir, 'ok.yaml');
    await writeFile(file, 'tenants:\n  - id: default\n  - id: acme\n    name: Acme\n');
    expect(await run(['check-config', file])).toEqual({ code: 0, stdout: `${file}: configuration is valid (2 tenants)\n`, stderr: '' });
  });

  test('names the dotted path of each problem and exits non-zero', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'issuer: http://example.com\ntenants:\n  - id: default\n    allowedOrigins: [nope]\nencryptionKey: ${MISSING_KEY}\n');
    const result = await run(['check-config', file], { env: { MISSING_KEY: 'x'.repeat(40) } });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `invalid configuration in ${file}:\n` +
        '  - issuer: must be https (http is allowed only on a loopback host)\n' +
        '  - tenants.0.allowedOrigins.0: must be an origin such as https://app.example.com\n',
    );
  });

  test('with --workers, checks what Workers cannot do, by path, and accepts a Workers configuration', async () => {
    const nodeOnly = join(dir, 'node-only.yaml');
    await writeFile(nodeOnly, 'tenants:\n  - id: default\n    upstreams:\n      - { id: files, transport: stdio, command: mcp-files }\n');
    expect(await run(['check-config', nodeOnly])).toMatchObject({ code: 0 });
    const refused = await run(['check-config', nodeOnly, '--workers']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `invalid configuration in ${nodeOnly}:\n` +
        '  - store.type: must be durable-objects on Workers (the STORE binding of wrangler.toml), not memory\n' +
        '  - publicUrl: is required on Workers, e.g. https://gateway.example.com\n' +
        '  - tenants.0.upstreams.0.transport: stdio upstreams start programs and need the Node runtime; on Workers use streamable-http or sse\n',
    );

    const workers = join(dir, 'workers.yaml');
    await writeFile(workers, `publicUrl: https://gw.example.com\nstore: { type: durable-objects }\nencryptionKey: ${'k'.repeat(32)}\ntenants:\n  - id: default\n    upstreams:\n      - { id: api, transport: streamable-http, url: "https://mcp.example.com/mcp" }\n`);
    expect(await run(['check-config', workers, '--workers'])).toEqual({ code: 0, stdout: `${workers}: configuration is valid for Workers (1 tenant)\n`, stderr: '' });
    // The Node runtime refuses the Workers store just as clearly.
    const onNode = await run(['check-config', workers]);
    expect(onNode).toMatchObject({ code: 1, stderr: `invalid configuration in ${workers}:\n  - store.type: durable-objects is the store of Cloudflare Workers; on Node use memory or redis\n` });
  });

  test('reports a missing file', async () => {
    const result = await run(['check-config', join(dir, 'absent.yaml')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('(root): cannot read the file: ENOENT');
  });

  test('requires a file argument', async () => {
    const result = await run(['check-config']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Usage:');
  });
});

test('portcullis hash-password prints a PBKDF2 hash of stdin that verifies', async () => {
  const result = await run(['hash-password'], { stdin: 'correct horse\n' });
  expect(result.code).toBe(0);
  const hash = result.stdout.trim();
  expect(hash).toMatch(/^pbkdf2-sha256\$100000\$[\w-]{22}\$[\w-]{43}$/);
  expect(await verifyPassword('correct horse', hash)).toBe(true);
  expect(await verifyPassword('correct horse\n', hash)).toBe(false);
});

test('portcullis admin-token prints a new random token and the hash that admin.tokens[].tokenHash expects', async () => {
  const [first, second] = [await run(['admin-token']), await run(['admin-token'])];
  const parse = (stdout: string) => /^token: ([\w-]{43})\ntokenHash: ([\w-]{43})\n$/.exec(stdout);
  const [, token, hash] = parse(first.stdout)!;
  expect(first.code).toBe(0);
  expect(hash).toBe(await tokenHash(token!));
  expect(parse(second.stdout)![1]).not.toBe(token);
});

test('an unknown command is refused', async () => {
  const result = await run(['frobnicate']);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain('unknown command "frobnicate"');
});

test('the built `portcullis` bin starts with the embedded default, warns about it, and serves discovery', async () => {
  const gateway = await spawnGateway([], { PORT: '0', HOST: '127.0.0.1' });
  try {
    expect(gateway.logs.some((line) => line.level === 40 && line.msg.startsWith('DEVELOPMENT ONLY'))).toBe(true);
    const metadata = (await (await fetch(`${gateway.url}/.well-known/oauth-authorization-server`)).json()) as { issuer: string };
    expect(metadata.issuer).toBe(gateway.url);
    const prm = (await (await fetch(`${gateway.url}/.well-known/oauth-protected-resource/mcp`)).json()) as { resource: string };
    expect(prm.resource).toBe(`${gateway.url}/mcp`);
  } finally {
    await gateway.stop();
  }
});

test('the tests run on the Node that runs npm, not on the node@22 dev dependency', () => {
  // The node@22 package puts a `node` first on PATH inside npm scripts; the gateway must be tested on the machine's Node.
  expect(process.execPath).not.toContain('node_modules');
  if (process.env.npm_node_execpath) expect(process.execPath).toBe(process.env.npm_node_execpath);
});

describe('portcullis policy test', () => {
  const example = 'examples/portcullis.yaml';
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    env = { PORTCULLIS_ENCRYPTION_KEY: 'e'.repeat(43), AGENT_SECRET: 'a'.repeat(43), ALICE_PASSWORD_HASH: await demoPasswordHash(), TICKETS_TOKEN: 't'.repeat(20) };
  });
  const claude = 'https://claude.ai/oauth/mcp-oauth-client-metadata';
  const base = ['policy', 'test', '--config', example, '--tenant', 'default', '--user', 'local:alice'];

  test.each([
    [
      'a read-only tool: allowed by the rule for read-only tools',
      ['--client', claude, '--upstream', 'demo', '--tool', 'echo', '--annotations', '{"readOnlyHint":true}', '--args', '{"text":"hi"}'],
      'allow\nrule: read-only\nreason: Tools that only read are open to every member\n',
    ],
    [
      'a tool that changes things, without tools:write: step-up',
      ['--client', claude, '--upstream', 'demo', '--tool', 'note_write', '--annotations', '{"destructiveHint":true}', '--args', '{}'],
      'step-up (needs tools:write)\nrule: changes-need-scope\nreason: Tools that change things need tools:write; clients without it are asked to step up\n',
    ],
    [
      'the same with the scope: allowed',
      ['--client', claude, '--scopes', 'mcp tools:write', '--upstream', 'demo', '--tool', 'note_write', '--annotations', '{"destructiveHint":true}', '--args', '{}'],
      'allow\nrule: changes-need-scope\nreason: Tools that change things need tools:write; clients without it are asked to step up\n',
    ],
    [
      'an unattended agent and a destructive tool: denied, whatever its scopes',
      ['--client', 'nightly-report-agent', '--scopes', 'mcp tools:write', '--upstream', 'demo', '--tool', 'note_write', '--annotations', '{"destructiveHint":true}', '--args', '{}'],
      'deny\nrule: no-destructive-agents\nreason: Unattended agents never run destructive tools\n',
    ],
    [
      'a large refund by someone outside finance: denied by the condition on its arguments',
      ['--client', claude, '--scopes', 'mcp tools:write', '--upstream', 'tickets', '--tool', 'refund', '--args', '{"amount":250}'],
      'deny\nrule: large-refunds\nreason: Refunds above 100 need someone from finance\n',
    ],
    [
      'the same refund by finance (groups given on the command line): allowed',
      ['--client', claude, '--scopes', 'mcp tools:write', '--groups', 'finance', '--upstream', 'tickets', '--tool', 'refund', '--args', '{"amount":250}'],
      'allow\nrule: changes-need-scope\nreason: Tools that change things need tools:write; clients without it are asked to step up\n',
    ],
    [
      'listing the refund tool (no arguments): visible, behind step-up',
      ['--client', claude, '--upstream', 'tickets', '--tool', 'refund'],
      'step-up (needs tools:write)\nrule: changes-need-scope\nreason: Tools that change things need tools:write; clients without it are asked to step up\nas a listing: conditions on arguments are not evaluated\n',
    ],
    [
      'a prompt no rule allows: the default denies',
      ['--client', claude, '--upstream', 'demo', '--prompt', 'summarize_notes', '--args', '{}'],
      'deny\nrule: (the default)\nreason: no rule matches; the default is deny\n',
    ],
  ])('%s', async (_name, args, expected) => {
    expect(await run([...base, ...args], { env })).toEqual({ code: 0, stdout: expected, stderr: '' });
  });

  test.each([
    [['--client', claude, '--upstream', 'demo'], 'give exactly one of --tool, --prompt, --resource'],
    [['--client', claude, '--tool', 'echo'], '--upstream is required: the tenant has 2 upstreams'],
    [['--tool', 'echo', '--upstream', 'demo'], '--user and --client are required'],
    [['--client', claude, '--upstream', 'demo', '--tool', 'echo', '--args', '[1]'], '--args must be a JSON object'],
    [['--client', claude, '--upstream', 'demo', '--tool', 'echo', '--colour', 'red'], "Unknown option '--colour'"],
  ])('refuses %j with the usage', async (args, message) => {
    const result = await run([...base, ...args], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('portcullis policy test --config FILE');
  });

  test('names an unknown tenant', async () => {
    const result = await run(['policy', 'test', '--config', example, '--tenant', 'nope', '--user', 'local:alice', '--client', 'c', '--tool', 'echo'], { env });
    expect(result).toMatchObject({ code: 2, stderr: expect.stringContaining('no tenant "nope" in the configuration') });
  });
});
