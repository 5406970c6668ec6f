import { describe, expect, test } from 'vitest';
import { ConfigError, interpolateEnv, parseConfig, parseConfigText } from '../../src/config/load.js';
import { settleUrls } from '../../src/config/settle.js';

const HASH = 'pbkdf2-sha256$1000$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

function issuesOf(action: () => unknown): readonly string[] {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('YAML and ${ENV} interpolation', () => {
  test('interpolates string values, keeps the structure, and writes $${ as a literal', () => {
    const config = parseConfigText(
      ['tenants:', '  - id: default', '    name: "${TENANT_NAME}"', 'encryptionKey: ${KEY}', 'clients:', '  - clientId: agent-1', '    clientSecret: "$${not-a-var}-${SECRET}"', '    tenant: default'].join('\n'),
      { TENANT_NAME: 'Acme: "quoted"\nnewline', KEY: 'k'.repeat(40), SECRET: 's'.repeat(32) },
      'test.yaml',
    );
    expect(config.tenants[0]?.name).toBe('Acme: "quoted"\nnewline');
    expect(config.encryptionKey).toBe('k'.repeat(40));
    expect(config.clients[0]?.clientSecret).toBe(`\${not-a-var}-${'s'.repeat(32)}`);
  });

  test('names every missing variable with its dotted path', () => {
    expect(issuesOf(() => parseConfigText('tenants:\n  - id: default\nencryptionKey: ${NOPE}\nusers: [{username: a, passwordHash: "${ALSO_NOPE}", tenants: [default]}]', {}, 'x.yaml'))).toEqual([
      'encryptionKey: environment variable NOPE is not set',
      'users.0.passwordHash: environment variable ALSO_NOPE is not set',
    ]);
  });

  test('leaves non-strings alone', () => {
    expect(interpolateEnv({ a: 1, b: [true, null, '${X}'] }, { X: 'y' })).toEqual({ a: 1, b: [true, null, 'y'] });
  });

  test('reads a JSON document (with ${ENV} references) the same as its YAML, and a YAML flow mapping too', () => {
    const env = { KEY: 'k'.repeat(40) };
    const fromJson = parseConfigText(JSON.stringify({ tenants: [{ id: 'default', name: 'JSON' }], encryptionKey: '${KEY}' }), env, 'c.json');
    const fromYaml = parseConfigText('tenants:\n  - id: default\n    name: JSON\nencryptionKey: ${KEY}\n', env, 'c.yaml');
    expect(fromJson).toEqual(fromYaml);
    expect(parseConfigText('{tenants: [{id: default, name: Flow}]}', {}, 'flow.yaml').tenants[0]?.name).toBe('Flow');
  });

  test('reports YAML syntax errors as a ConfigError', () => {
    const [issue] = issuesOf(() => parseConfigText('tenants: [', {}, 'bad.yaml'));
    expect(issue).toMatch(/^\(root\): not valid YAML/);
  });
});

describe('schema', () => {
  const minimal = { tenants: [{ id: 'default' }] };

  test('fills the documented defaults', () => {
    const config = parseConfig(minimal);
    expect(config.server).toEqual({ host: '127.0.0.1', port: 8787, trustedProxies: [] });
    expect(config.store).toEqual({ type: 'memory' });
    expect(config.defaultTenant).toBe('default');
    expect(config.tenants[0]).toEqual({ id: 'default', baseScope: 'mcp', scopes: [], allowedOrigins: [], upstreams: [], policy: { default: 'allow', rules: [] }, quotas: { onStoreDown: 'deny', limits: [], agents: [], costs: [], softLimit: 0.8 },
      guardrails: { rules: [], custom: [], maxBytes: 1024 * 1024, maxDepth: 64, overLimit: 'block', toolDefinitions: { onChange: 'hide', onPoisoned: 'hide' } },
      members: { users: [], groups: [] },
    });
    expect(config.admin).toEqual({ tokens: [] });
    expect(config.plans).toEqual([]);
    expect(config.mcp).toEqual({ sessionIdleTimeout: 1800, maxSessions: 10_000, keepAliveMs: 15_000 });
    expect(config.tokens.accessTokenTtl).toBe(900);
    expect(config.clientMetadataDocuments.allowLoopback).toBe(false);
  });

  test.each([
    [{ issuer: 'http://gateway.example.com' }, 'issuer: must be https (http is allowed only on a loopback host)'],
    [{ issuer: 'https://gateway.example.com/' }, 'issuer: must not end with a slash'],
    [{ publicUrl: 'https://gateway.example.com/?x=1' }, 'publicUrl: must not have a query or fragment'],
    [{ publicUrl: 'not a url' }, 'publicUrl: must be an absolute URL'],
    [{ tenants: [{ id: 'Bad Id' }] }, 'tenants.0.id: must be a lowercase slug (a-z, 0-9, -; at most 63 characters)'],
    [{ tenants: [{ id: 'a' }, { id: 'a' }], defaultTenant: 'a' }, 'tenants.1.id: duplicate tenant id "a"'],
    [{ defaultTenant: 'missing' }, 'defaultTenant: no tenant has the id "missing"'],
    [{ tenants: [{ id: 'default', colour: 'red' }] }, 'tenants.0: unknown key colour'],
    [{ store: { type: 'redis', url: 'redis://127.0.0.1:6379' } }, 'encryptionKey: is required with a shared store, so every replica can read the shared keys'],
    [{ users: [{ username: 'a', passwordHash: 'plain', tenants: ['default'] }] }, 'users.0.passwordHash: must be a hash from `portcullis hash-password`'],
    [{ users: [{ username: 'a', passwordHash: HASH, tenants: ['nope'] }] }, 'users.0.tenants.0: no tenant has the id "nope"'],
    [{ clients: [{ clientId: 'agent', clientSecret: 'short', tenant: 'default' }] }, 'clients.0.clientSecret: must be at least 32 characters (use ${ENV_VAR} to keep it out of the file)'],
    [{ tenants: [{ id: 'default', allowedOrigins: ['https://app.example.com/'] }] }, 'tenants.0.allowedOrigins.0: must be an origin such as https://app.example.com'],
    // A policy is checked whole when loaded, every problem named by its path; nothing of it is applied half.
    [{ tenants: [{ id: 'default', policy: { rules: [{ id: 'r', effect: 'deny', when: 'args.x ==' }] } }] }, 'tenants.0.policy.rules.0.when: invalid CEL expression: Unexpected token: EOF'],
    [{ tenants: [{ id: 'default', policy: { rules: [{ id: 'r', effect: 'deny', when: 'secret == 1' }] } }] }, 'tenants.0.policy.rules.0.when: invalid CEL expression: Unknown variable: secret'],
    [{ tenants: [{ id: 'default', policy: { rules: [{ id: 'r', effect: 'deny', when: 'args.n + 1' }] } }] }, 'tenants.0.policy.rules.0.when: invalid CEL expression: must be a boolean expression, not int'],
    [{ tenants: [{ id: 'default', policy: { rules: [{ id: 'r', effect: 'deny', scopes: ['mcp'] }] } }] }, 'tenants.0.policy.rules.0.scopes: only allow rules require scopes'],
    [{ tenants: [{ id: 'default', policy: { rules: [{ id: 'r', effect: 'allow', scopes: ['files:write'] }] } }] }, 'tenants.0.policy.rules.0.scopes.0: the tenant defines no scope "files:write"'],
    [{ tenants: [{ id: 'default', policy: { rules: [{ id: 'r', effect: 'allow', upstreams: ['nope'] }] } }] }, 'tenants.0.policy.rules.0.upstreams.0: no upstream "nope" in this tenant'],
    [{ tenants: [{ id: 'default', policy: { rules: [{ id: 'r', effect: 'allow' }, { id: 'r', effect: 'deny' }] } }] }, 'tenants.0.policy.rules.1.id: duplicate rule id "r"'],
    [{ tenants: [{ id: 'default', policy: { rules: [{ id: 'r', effect: 'block' }] } }] }, 'tenants.0.policy.rules.0.effect: Invalid option: expected one of "allow"|"deny"'],
    [{ tenants: [{ id: 'default', policy: { rules: [{ id: 'r', effect: 'deny', tool: ['x'] }] } }] }, 'tenants.0.policy.rules.0: unknown key tool'],
    [{ tenants: [{ id: 'default', policy: { rules: [{ id: 'r', effect: 'deny', prompts: ['p'], annotations: { readOnlyHint: true } }] } }] }, 'tenants.0.policy.rules.0.annotations: annotations belong to tools; add tools or remove prompts/resources'],
  ])('refuses %j', (override, message) => {
    expect(issuesOf(() => parseConfig({ ...minimal, ...override }))).toContain(message);
  });

  test('accepts http issuers on loopback hosts and https with a path', () => {
    expect(parseConfig({ ...minimal, issuer: 'http://[::1]:8787' }).issuer).toBe('http://[::1]:8787');
    expect(parseConfig({ ...minimal, issuer: 'https://example.com/gateway' }).issuer).toBe('https://example.com/gateway');
  });
});

describe('settleUrls', () => {
  test('derives publicUrl from a loopback bind address and the issuer from publicUrl', () => {
    const config = settleUrls(parseConfig({ tenants: [{ id: 'default' }], server: { host: '127.0.0.1', port: 9999 } }), 'x');
    expect(config.publicUrl).toBe('http://127.0.0.1:9999');
    expect(config.issuer).toBe('http://127.0.0.1:9999');
  });

  test('requires publicUrl when binding a non-loopback address', () => {
    expect(issuesOf(() => settleUrls(parseConfig({ tenants: [{ id: 'default' }], server: { host: '0.0.0.0', port: 80 } }), 'x'))).toEqual([
      'publicUrl: is required when server.host (0.0.0.0) is not a loopback address',
    ]);
  });

  test('keeps an explicit issuer distinct from publicUrl', () => {
    const config = settleUrls(parseConfig({ tenants: [{ id: 'default' }], publicUrl: 'https://gw.example.com', issuer: 'https://id.example.com' }), 'x');
    expect(config).toMatchObject({ publicUrl: 'https://gw.example.com', issuer: 'https://id.example.com' });
  });
});

test('examples/portcullis.yaml is a valid configuration', async () => {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(new URL('../../examples/portcullis.yaml', import.meta.url), 'utf8');
  const config = settleUrls(
    parseConfigText(text, { PORTCULLIS_ENCRYPTION_KEY: 'e'.repeat(43), AGENT_SECRET: 'a'.repeat(43), ALICE_PASSWORD_HASH: HASH, TICKETS_TOKEN: 't'.repeat(20) }, 'examples/portcullis.yaml'),
    'examples/portcullis.yaml',
  );
  expect(config.issuer).toBe('https://gateway.example.com');
  expect(config.tenants.map((tenant) => tenant.id)).toEqual(['default', 'research']);
});

test('PORTCULLIS_ENCRYPTION_KEY supplies encryptionKey unless the file sets one', () => {
  const yaml = 'tenants: [{id: default}]\nstore: {type: redis, url: "redis://127.0.0.1:6379"}\n';
  const key = 'k'.repeat(40);
  expect(parseConfigText(yaml, { PORTCULLIS_ENCRYPTION_KEY: key }, 'x').encryptionKey).toBe(key);
  expect(parseConfigText(`${yaml}encryptionKey: ${'f'.repeat(40)}\n`, { PORTCULLIS_ENCRYPTION_KEY: key }, 'x').encryptionKey).toBe('f'.repeat(40));
  expect(issuesOf(() => parseConfigText(yaml, {}, 'x'))).toEqual(['encryptionKey: is required with a shared store, so every replica can read the shared keys']);
});

test.each([
  [{ clients: [{ clientId: 'local:demo', clientSecret: 's'.repeat(32), tenant: 'default' }] }, 'clients.0.clientId: must be 3-128 characters of letters, digits, _ . -'],
  [{ users: [{ username: 'a', passwordHash: 'pbkdf2-sha256$200000$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', tenants: ['default'] }] }, 'users.0.passwordHash: must be a hash from `portcullis hash-password`'],
  [{ users: [{ username: 'a', passwordHash: 'pbkdf2-sha256$1000$AAAA$AAAA', tenants: ['default'] }] }, 'users.0.passwordHash: must be a hash from `portcullis hash-password`'],
])('refuses values the gateway could not use: %j', (override, message) => {
  expect(issuesOf(() => parseConfig({ tenants: [{ id: 'default' }], ...override }))).toContain(message);
});

describe('upstreams', () => {
  const tenant = (upstreams: unknown[]) => ({ tenants: [{ id: 'default', upstreams }] });

  test('accepts each transport with its defaults', () => {
    const config = parseConfig(
      tenant([
        { id: 'files', transport: 'streamable-http', url: 'https://files.example.com/mcp', headers: { Authorization: 'Bearer x' } },
        { id: 'legacy', transport: 'sse', url: 'http://127.0.0.1:9000/sse' },
        { id: 'local', prefix: 'tools', transport: 'stdio', command: '/usr/bin/node', args: ['server.js'], inheritEnv: ['PATH'] },
        { id: 'demo', transport: 'demo' },
      ]),
    );
    expect(config.tenants[0]?.upstreams.map((upstream) => [upstream.id, upstream.timeoutMs])).toEqual([
      ['files', 30_000],
      ['legacy', 30_000],
      ['local', 30_000],
      ['demo', 30_000],
    ]);
    expect(config.tenants[0]?.upstreams[2]).toMatchObject({ env: {}, maxProcesses: 16, prefix: 'tools' });
  });

  test.each([
    [[{ id: 'a', transport: 'demo' }, { id: 'b', prefix: 'a', transport: 'demo' }], 'tenants.0.upstreams.1.prefix: duplicate upstream prefix "a"'],
    [[{ id: 'a', transport: 'streamable-http', url: 'ftp://x/' }], 'tenants.0.upstreams.0.url: must be an http(s) URL'],
    [[{ id: 'a', transport: 'streamable-http', url: 'https://x/mcp', headers: { 'Mcp-Session-Id': 'x' } }], 'tenants.0.upstreams.0.headers: must not set transport headers (Host, Content-Type, Mcp-Session-Id, Cookie, ...)'],
    [[{ id: 'a', transport: 'stdio', command: 'node', env: { 'BAD-NAME': 'x' } }], 'tenants.0.upstreams.0.env.BAD-NAME: must be an environment variable name'],
    [[{ id: 'a', transport: 'websocket', url: 'wss://x' }], "tenants.0.upstreams.0.transport: Invalid discriminator value. Expected 'streamable-http' | 'sse' | 'stdio' | 'demo'"],
  ])('refuses %j', (upstreams, message) => {
    const issues = issuesOf(() => parseConfig(tenant(upstreams)));
    expect(issues.some((issue) => issue.startsWith(message)), issues.join('\n')).toBe(true);
  });
});
