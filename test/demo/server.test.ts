import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ErrorCode, McpError, ResourceListChangedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createDemoServer, MAX_NOTE_BYTES, MAX_NOTES, type DemoServerOptions } from '../../src/demo/server.js';

// The demo upstream behind the embedded default config, driven by the SDK client over an in-memory transport pair:
// what a newcomer sees of it in MCP Inspector, tool by tool, including the inputs a model gets wrong.

const NOW = new Date('2025-01-15T12:34:56.789Z');
const clients: Client[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

async function connect(options: DemoServerOptions = { now: () => NOW }): Promise<Client> {
  const server = createDemoServer(options);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'demo-test', version: '1.0.0' });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  clients.push(client);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

function text(result: CallToolResult): string {
  expect(result.content).toHaveLength(1);
  const [content] = result.content;
  if (content?.type !== 'text') throw new Error(`expected one text content, got ${JSON.stringify(result.content)}`);
  return content.text;
}

/** A tool error a model can read: `isError: true` and one text content, and no structured content. */
function toolError(result: CallToolResult): string {
  expect(result.isError).toBe(true);
  expect(result.structuredContent).toBeUndefined();
  return text(result);
}

function ok(result: CallToolResult): CallToolResult {
  expect(result.isError ?? false).toBe(false);
  return result;
}

describe('what the demo server offers', () => {
  it('introduces itself with a name, instructions and the capabilities it serves', async () => {
    const client = await connect();
    expect(client.getServerVersion()).toEqual({ name: 'portcullis-demo', title: 'Portcullis demo upstream', version: '0.1.0' });
    expect(client.getInstructions()).toContain('keep up to 100 short notes in memory');
    expect(client.getServerCapabilities()).toMatchObject({
      tools: { listChanged: true },
      resources: { listChanged: true },
      prompts: { listChanged: true },
      completions: {},
      logging: {},
    });
  });

  it('lists six tools, each with a title, a description and annotations that say what it may change', async () => {
    const { tools } = await (await connect()).listTools();
    const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
    expect(tools.map((tool) => [tool.name, tool.title, tool.annotations])).toEqual([
      ['echo', 'Echo', readOnly],
      ['add', 'Add two numbers', readOnly],
      ['current_time', 'Current time', readOnly],
      // Writing replaces a note of the same title (destructive), and writing the same note twice changes nothing more.
      ['note_write', 'Write a note', { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false }],
      ['note_read', 'Read a note', readOnly],
      ['note_list', 'List notes', readOnly],
    ]);
    for (const tool of tools) expect(tool.description?.length).toBeGreaterThan(20);
    const byName = Object.fromEntries(tools.map((tool) => [tool.name, tool]));
    expect(byName['add']?.inputSchema).toMatchObject({ type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] });
    expect(byName['add']?.outputSchema).toMatchObject({ type: 'object', properties: { sum: { type: 'number' } }, required: ['sum'] });
    expect(byName['note_write']?.inputSchema).toMatchObject({
      properties: { title: { type: 'string', minLength: 1, maxLength: 100 }, text: { type: 'string' } },
      required: ['title', 'text'],
    });
    expect(byName['current_time']?.inputSchema).toMatchObject({ properties: { timeZone: { type: 'string' } } });
    expect(byName['current_time']?.inputSchema.required).toBeUndefined();
  });

  it('lists the notes resource, the per-note template and the summarize_notes prompt', async () => {
    const client = await connect();
    expect((await client.listResources()).resources).toEqual([
      { uri: 'demo://notes', name: 'notes', title: 'All notes', description: 'Every note, as one Markdown document.', mimeType: 'text/markdown' },
    ]);
    expect((await client.listResourceTemplates()).resourceTemplates).toEqual([
      { uriTemplate: 'demo://notes/{title}', name: 'note', title: 'A note', description: 'One note by its URL-encoded title.', mimeType: 'text/plain' },
    ]);
    expect((await client.listPrompts()).prompts).toEqual([
      {
        name: 'summarize_notes',
        title: 'Summarize notes',
        description: 'Asks the model to summarize every note, optionally with a focus.',
        arguments: [{ name: 'focus', description: 'What the summary should concentrate on', required: false }],
      },
    ]);
  });
});

describe('echo', () => {
  it('returns the text unchanged', async () => {
    const client = await connect();
    expect(text(ok(await call(client, 'echo', { text: 'héllo, wörld 👋\n' })))).toBe('héllo, wörld 👋\n');
    expect(text(ok(await call(client, 'echo', { text: '' })))).toBe('');
  });

  it('refuses a missing or non-string text, and text over 10 000 characters, as tool errors', async () => {
    const client = await connect();
    expect(toolError(await call(client, 'echo'))).toBe(
      'MCP error -32602: Input validation error: Invalid arguments for tool echo: Invalid input: expected string, received undefined at text',
    );
    expect(toolError(await call(client, 'echo', { text: 42 }))).toContain('Invalid arguments for tool echo: Invalid input: expected string, received number at text');
    expect(text(ok(await call(client, 'echo', { text: 'x'.repeat(10_000) })))).toHaveLength(10_000);
    expect(toolError(await call(client, 'echo', { text: 'x'.repeat(10_001) }))).toContain('Too big: expected string to have <=10000 characters at text');
  });
});

describe('add', () => {
  it('returns the sum as text and as structured content', async () => {
    const client = await connect();
    expect(ok(await call(client, 'add', { a: 2, b: 3 }))).toEqual({ content: [{ type: 'text', text: '5' }], structuredContent: { sum: 5 } });
    expect(ok(await call(client, 'add', { a: -1.5, b: 0.25 }))).toEqual({ content: [{ type: 'text', text: '-1.25' }], structuredContent: { sum: -1.25 } });
  });

  it('refuses missing and non-numeric addends as tool errors', async () => {
    const client = await connect();
    expect(toolError(await call(client, 'add', { a: 1, b: '2' }))).toBe(
      'MCP error -32602: Input validation error: Invalid arguments for tool add: Invalid input: expected number, received string at b',
    );
    expect(toolError(await call(client, 'add', { a: 1 }))).toContain('Invalid input: expected number, received undefined at b');
  });

  it('reports a sum too large for a number as a tool error rather than returning null', async () => {
    expect(toolError(await call(await connect(), 'add', { a: 1e308, b: 1e308 }))).toBe('the sum of 1e+308 and 1e+308 is too large to represent');
  });
});

describe('current_time', () => {
  it('tells the time in UTC when no time zone is given', async () => {
    expect(ok(await call(await connect(), 'current_time'))).toEqual({
      content: [{ type: 'text', text: '2025-01-15 12:34:56 in UTC (GMT+00:00); 2025-01-15T12:34:56.789Z UTC' }],
      structuredContent: { utc: '2025-01-15T12:34:56.789Z', timeZone: 'UTC', local: '2025-01-15 12:34:56', offset: 'GMT+00:00' },
    });
  });

  it('tells the wall-clock time and offset in an IANA time zone, daylight saving included', async () => {
    const client = await connect();
    expect((await call(client, 'current_time', { timeZone: 'Asia/Kolkata' })).structuredContent).toEqual({
      utc: '2025-01-15T12:34:56.789Z',
      timeZone: 'Asia/Kolkata',
      local: '2025-01-15 18:04:56',
      offset: 'GMT+05:30',
    });
    expect(text(await call(client, 'current_time', { timeZone: 'America/New_York' }))).toBe(
      '2025-01-15 07:34:56 in America/New_York (GMT-05:00); 2025-01-15T12:34:56.789Z UTC',
    );
    const summer = await connect({ now: () => new Date('2025-07-01T00:30:00Z') });
    expect((await call(summer, 'current_time', { timeZone: 'Europe/Paris' })).structuredContent).toMatchObject({ local: '2025-07-01 02:30:00', offset: 'GMT+02:00' });
  });

  it('reads the clock at each call', async () => {
    let tick = 0;
    const client = await connect({ now: () => new Date(Date.UTC(2025, 0, 1, 0, 0, tick++)) });
    expect((await call(client, 'current_time')).structuredContent).toMatchObject({ local: '2025-01-01 00:00:00' });
    expect((await call(client, 'current_time')).structuredContent).toMatchObject({ local: '2025-01-01 00:00:01' });
  });

  it('answers an unknown time zone with a tool error the model can act on, not a protocol error', async () => {
    const client = await connect();
    expect(toolError(await call(client, 'current_time', { timeZone: 'Mars/Olympus_Mons' }))).toBe(
      'unknown time zone "Mars/Olympus_Mons": use an IANA name such as Europe/Paris or UTC',
    );
    expect(toolError(await call(client, 'current_time', { timeZone: '' }))).toBe('unknown time zone "": use an IANA name such as Europe/Paris or UTC');
    expect(toolError(await call(client, 'current_time', { timeZone: 5 }))).toContain('Invalid input: expected string, received number at timeZone');
    // The server is still fine afterwards.
    ok(await call(client, 'current_time', { timeZone: 'UTC' }));
  });
});

describe('the notes store', () => {
  it('writes, reads, replaces and lists notes, oldest first', async () => {
    let minute = 0;
    const client = await connect({ now: () => new Date(Date.UTC(2025, 0, 1, 9, minute++)) });
    expect(text(ok(await call(client, 'note_write', { title: 'groceries', text: 'milk, eggs' })))).toBe('Saved note "groceries" (10 bytes).');
    expect(text(ok(await call(client, 'note_write', { title: 'ideas', text: 'café ☕' })))).toBe('Saved note "ideas" (9 bytes).');
    expect(text(ok(await call(client, 'note_read', { title: 'groceries' })))).toBe('milk, eggs');
    expect(text(ok(await call(client, 'note_write', { title: 'groceries', text: 'milk, eggs, bread' })))).toBe('Replaced note "groceries" (17 bytes).');
    expect(text(ok(await call(client, 'note_read', { title: 'groceries' })))).toBe('milk, eggs, bread');
    expect(ok(await call(client, 'note_list'))).toEqual({
      content: [{ type: 'text', text: '- groceries (17 bytes)\n- ideas (9 bytes)' }],
      structuredContent: {
        notes: [
          { title: 'groceries', bytes: 17, updatedAt: '2025-01-01T09:02:00.000Z' },
          { title: 'ideas', bytes: 9, updatedAt: '2025-01-01T09:01:00.000Z' },
        ],
      },
    });
  });

  it('says when there are no notes, and answers reading a missing note with a tool error', async () => {
    const client = await connect();
    expect(ok(await call(client, 'note_list'))).toEqual({ content: [{ type: 'text', text: 'There are no notes.' }], structuredContent: { notes: [] } });
    expect(toolError(await call(client, 'note_read', { title: 'nothing here' }))).toBe('there is no note titled "nothing here"');
  });

  it('keeps each server instance’s notes to itself', async () => {
    const first = await connect();
    const second = await connect();
    ok(await call(first, 'note_write', { title: 'mine', text: 'first only' }));
    expect(toolError(await call(second, 'note_read', { title: 'mine' }))).toBe('there is no note titled "mine"');
  });

  it('refuses titles that are empty or longer than 100 characters, and missing text', async () => {
    const client = await connect();
    expect(toolError(await call(client, 'note_write', { title: '', text: 'x' }))).toBe(
      'MCP error -32602: Input validation error: Invalid arguments for tool note_write: Too small: expected string to have >=1 characters at title',
    );
    expect(toolError(await call(client, 'note_write', { title: 't'.repeat(101), text: 'x' }))).toContain('Too big: expected string to have <=100 characters at title');
    ok(await call(client, 'note_write', { title: 't'.repeat(100), text: 'x' }));
    expect(toolError(await call(client, 'note_write', { title: 'a' }))).toContain('Invalid input: expected string, received undefined at text');
    expect(toolError(await call(client, 'note_read', {}))).toContain('Invalid input: expected string, received undefined at title');
  });

  it('keeps a note of exactly 10 KiB and refuses one byte more, counting UTF-8 bytes rather than characters', async () => {
    const client = await connect();
    expect(text(ok(await call(client, 'note_write', { title: 'full', text: 'x'.repeat(MAX_NOTE_BYTES) })))).toBe('Saved note "full" (10240 bytes).');
    expect(toolError(await call(client, 'note_write', { title: 'over', text: 'x'.repeat(MAX_NOTE_BYTES + 1) }))).toBe(
      'the note is 10241 bytes; a note may be at most 10240 bytes',
    );
    // 5 121 characters, but "é" is two bytes in UTF-8.
    expect(toolError(await call(client, 'note_write', { title: 'accents', text: 'é'.repeat(5121) }))).toBe(
      'the note is 10242 bytes; a note may be at most 10240 bytes',
    );
    // A refused replacement leaves the old note as it was.
    expect(toolError(await call(client, 'note_write', { title: 'full', text: 'y'.repeat(MAX_NOTE_BYTES + 1) }))).toContain('10241 bytes');
    expect(text(ok(await call(client, 'note_read', { title: 'full' })))).toBe('x'.repeat(MAX_NOTE_BYTES));
    expect(toolError(await call(client, 'note_read', { title: 'over' }))).toBe('there is no note titled "over"');
  });

  it('keeps at most 100 notes but still lets a full store replace a note', async () => {
    const client = await connect();
    for (let i = 0; i < MAX_NOTES; i++) ok(await call(client, 'note_write', { title: `note ${i}`, text: `text ${i}` }));
    expect(toolError(await call(client, 'note_write', { title: 'one too many', text: 'x' }))).toBe(
      'the notes store is full (100 notes); replace an existing note instead',
    );
    expect(text(ok(await call(client, 'note_write', { title: 'note 7', text: 'rewritten' })))).toBe('Replaced note "note 7" (9 bytes).');
    const { structuredContent } = await call(client, 'note_list');
    expect((structuredContent as { notes: unknown[] }).notes).toHaveLength(MAX_NOTES);
    expect(toolError(await call(client, 'note_read', { title: 'one too many' }))).toBe('there is no note titled "one too many"');
  });
});

describe('notes as resources', () => {
  it('reads all notes as one Markdown document, and one note by its URL-encoded title', async () => {
    const client = await connect();
    expect(await client.readResource({ uri: 'demo://notes' })).toEqual({
      contents: [{ uri: 'demo://notes', mimeType: 'text/markdown', text: '_No notes yet._\n' }],
    });
    ok(await call(client, 'note_write', { title: 'plans/2025 Q1', text: 'ship the gateway' }));
    ok(await call(client, 'note_write', { title: 'b', text: 'second' }));
    expect((await client.readResource({ uri: 'demo://notes' })).contents).toEqual([
      { uri: 'demo://notes', mimeType: 'text/markdown', text: '## plans/2025 Q1\n\nship the gateway\n\n## b\n\nsecond\n' },
    ]);
    const uri = 'demo://notes/plans%2F2025%20Q1';
    expect(await client.readResource({ uri })).toEqual({ contents: [{ uri, mimeType: 'text/plain', text: 'ship the gateway' }] });
  });

  it('lists one resource per note through the template', async () => {
    const client = await connect();
    ok(await call(client, 'note_write', { title: 'a b', text: 'x' }));
    const { resources } = await client.listResources();
    expect(resources.map((resource) => resource.uri)).toEqual(['demo://notes', 'demo://notes/a%20b']);
    expect(resources[1]).toEqual({ uri: 'demo://notes/a%20b', name: 'a b', title: 'a b', mimeType: 'text/plain', description: 'One note by its URL-encoded title.' });
  });

  it('answers a note that does not exist, or a malformed title, with a JSON-RPC invalid-params error carrying the URI', async () => {
    const client = await connect();
    for (const uri of ['demo://notes/missing', 'demo://notes/%E0%A4%A']) {
      const error = await client.readResource({ uri }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(McpError);
      expect(error).toMatchObject({ code: ErrorCode.InvalidParams, data: { uri } });
      expect((error as McpError).message.endsWith(`Resource ${uri} not found`)).toBe(true);
    }
  });

  it('tells the client the resource list changed when a note is written', async () => {
    const client = await connect();
    let changes = 0;
    client.setNotificationHandler(ResourceListChangedNotificationSchema, () => {
      changes++;
    });
    ok(await call(client, 'note_write', { title: 'a', text: 'x' }));
    await expect.poll(() => changes).toBe(1);
    await call(client, 'note_write', { title: 'too big', text: 'x'.repeat(MAX_NOTE_BYTES + 1) });
    ok(await call(client, 'note_read', { title: 'a' }));
    expect(changes).toBe(1);
  });

  it('completes note titles in the template', async () => {
    const client = await connect();
    for (const title of ['groceries', 'green ideas', 'work']) ok(await call(client, 'note_write', { title, text: 'x' }));
    const { completion } = await client.complete({ ref: { type: 'ref/resource', uri: 'demo://notes/{title}' }, argument: { name: 'title', value: 'gr' } });
    expect(completion.values).toEqual(['groceries', 'green%20ideas']);
  });
});

describe('the summarize_notes prompt', () => {
  it('asks to summarize every note, with the focus when one is given', async () => {
    const client = await connect();
    ok(await call(client, 'note_write', { title: 'standup', text: 'fixed the login bug' }));
    expect(await client.getPrompt({ name: 'summarize_notes', arguments: { focus: 'bugs' } })).toEqual({
      description: 'Summarize the notes',
      messages: [{ role: 'user', content: { type: 'text', text: 'Summarize these notes, concentrating on bugs.\n\n## standup\n\nfixed the login bug\n' } }],
    });
    expect((await client.getPrompt({ name: 'summarize_notes' })).messages[0]?.content).toEqual({
      type: 'text',
      text: 'Summarize these notes.\n\n## standup\n\nfixed the login bug\n',
    });
  });

  it('says there are no notes when the store is empty', async () => {
    expect((await (await connect()).getPrompt({ name: 'summarize_notes' })).messages).toEqual([
      { role: 'user', content: { type: 'text', text: 'There are no notes yet. Say so, and suggest writing one with the note_write tool.' } },
    ]);
  });

  it('refuses a focus longer than 200 characters with a JSON-RPC invalid-params error', async () => {
    const error = await (await connect()).getPrompt({ name: 'summarize_notes', arguments: { focus: 'f'.repeat(201) } }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(McpError);
    expect(error).toMatchObject({ code: ErrorCode.InvalidParams });
    expect((error as McpError).message).toContain('Invalid arguments for prompt summarize_notes');
  });
});

describe('calls that name no tool of the server', () => {
  it('answers an unknown tool with a tool error', async () => {
    expect(toolError(await call(await connect(), 'rm_rf', {}))).toBe('MCP error -32602: Tool rm_rf not found');
  });
});
