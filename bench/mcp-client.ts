import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { tokenRequest, type TargetOptions } from './targets.js';

// The MCP client side of the tools/call benchmarks (tools-call.ts, tenants.ts): the service client's token, the
// SDK client sessions, and the checked echo call.

/** A `client_credentials` access token of the benchmark's service client for the MCP resource `<origin><mcpPath>`. */
export async function gatewayToken(origin: string, options: TargetOptions, mcpPath = '/mcp'): Promise<string> {
  const { headers, body } = tokenRequest(options);
  const response = await fetch(`${origin}/token`, { method: 'POST', headers, body: body(origin, mcpPath) });
  const json = (await response.json()) as { access_token?: string };
  if (response.status !== 200 || json.access_token === undefined) throw new Error(`could not get a token: ${response.status} ${JSON.stringify(json)}`);
  return json.access_token;
}

/** Opens `count` SDK client sessions into `clients`, so that the caller can close the ones opened before a failure. */
export async function openSessions(count: number, transport: () => Transport, clients: Client[]): Promise<void> {
  for (let i = 0; i < count; i++) {
    const client = new Client({ name: 'portcullis-bench', version: '0.1.0' });
    clients.push(client);
    await client.connect(transport());
  }
}

export async function closeSessions(clients: readonly Client[]): Promise<void> {
  await Promise.allSettled(
    clients.map(async (client) => {
      // DELETE ends the session on the server too, so the gateway stops that session's stdio upstream now.
      if (client.transport instanceof StreamableHTTPClientTransport) await client.transport.terminateSession().catch(() => {});
      await client.close();
    }),
  );
}

/**
 * tools/call of `echo`, each with a text of about `textBytes` bytes unique to the call: the call's number, then
 * `filler` (one-byte characters) repeated or cut to length.
 */
export class EchoCalls {
  readonly #padding: string;
  /** Calls started so far. */
  count = 0;

  constructor(textBytes: number, filler = 'x') {
    const length = Math.max(0, textBytes - 16);
    this.#padding = filler.repeat(Math.ceil(length / filler.length)).slice(0, length);
  }

  /** One call; anything but its own text echoed back is a failure, described by the string it resolves to. */
  async call(client: Client): Promise<string | undefined> {
    const text = `${String(this.count++).padStart(12, '0')} ${this.#padding}`;
    const result = await client.callTool({ name: 'echo', arguments: { text } });
    const block = (result.content as { type?: string; text?: string }[] | undefined)?.[0];
    if (result.isError !== true && block?.type === 'text' && block.text === text) return undefined;
    return `unexpected answer: ${JSON.stringify(result).slice(0, 200)}`;
  }
}
