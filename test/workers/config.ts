/** The configuration the Worker runs with in the workerd tests (vitest.workers.config.ts gives it as PORTCULLIS_CONFIG). */
export const WORKER_URL = 'https://gateway.test';
export const SERVICE_CLIENT = { clientId: 'workerd-test-agent', clientSecret: 'a-secret-made-for-the-workerd-tests-only', tenant: 'default' };

export const WORKER_CONFIG = {
  publicUrl: WORKER_URL,
  store: { type: 'durable-objects' },
  tenants: [{ id: 'default', upstreams: [{ id: 'demo', transport: 'demo' }] }],
  clients: [SERVICE_CLIENT],
  mcp: { sessionIdleTimeout: 1 },
  logLevel: 'error',
};
