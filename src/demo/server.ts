import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import * as z from 'zod';

/** The most notes one demo server instance keeps. */
export const MAX_NOTES = 100;
/** The largest note text, in UTF-8 bytes (10 KiB). */
export const MAX_NOTE_BYTES = 10 * 1024;
/** The longest note title, in characters. */
export const MAX_TITLE_LENGTH = 100;
/** The longest text `echo` repeats, in characters. */
export const MAX_ECHO_LENGTH = 10_000;

/** What a test may replace in the demo server. */
export interface DemoServerOptions {
  /** JSON Schema validation as the runtime allows (the SDK's Ajv by default; Workers refuse its code generation). */
  jsonSchemaValidator?: jsonSchemaValidator;
  /** The clock `current_time` reads; tests pass a fixed one. */
  now?: () => Date;
}

interface Note {
  text: string;
  bytes: number;
  updatedAt: string;
}

const NOTES_URI = 'demo://notes';
const encoder = new TextEncoder();

/**
 * The demo upstream MCP server that the embedded default config puts behind the gateway, so a newcomer sees real
 * tools in MCP Inspector at once: `echo`, `add`, `current_time`, and a small notes store (`note_write`, `note_read`,
 * `note_list`), the resource `demo://notes` with one `demo://notes/{title}` per note, and the prompt
 * `summarize_notes`. The notes live in this instance's memory, bounded by {@link MAX_NOTES} and
 * {@link MAX_NOTE_BYTES}. Runtime-neutral (no `node:` imports): it runs in-process on Node and on Workers.
 *
 * Failures a caller can fix (an unknown time zone, a missing note, a full store) come back as tool results with
 * `isError: true`, per MCP 2025-11-25 server/tools "Error Handling", so a model can read them and try again.
 */
export function createDemoServer(options: DemoServerOptions = {}): McpServer {
  const now = options.now ?? (() => new Date());
  const notes = new Map<string, Note>();

  const server = new McpServer(
    { name: 'portcullis-demo', title: 'Portcullis demo upstream', version: '0.1.0' },
    {
      capabilities: { logging: {} },
      ...(options.jsonSchemaValidator !== undefined && { jsonSchemaValidator: options.jsonSchemaValidator }),
      instructions:
        'A demo MCP server behind Portcullis: echo text, add numbers, tell the time in any IANA time zone, and keep ' +
        `up to ${MAX_NOTES} short notes in memory (lost when the server restarts).`,
    },
  );

  server.registerTool(
    'echo',
    {
      title: 'Echo',
      description: 'Returns the given text unchanged. Useful to check that calls reach the server.',
      inputSchema: { text: z.string().max(MAX_ECHO_LENGTH).describe('The text to send back') },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    ({ text }) => textResult(text),
  );

  server.registerTool(
    'add',
    {
      title: 'Add two numbers',
      description: 'Adds two numbers and returns their sum.',
      inputSchema: { a: z.number().describe('The first addend'), b: z.number().describe('The second addend') },
      outputSchema: { sum: z.number().describe('a + b') },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    ({ a, b }) => {
      const sum = a + b;
      if (!Number.isFinite(sum)) return errorResult(`the sum of ${a} and ${b} is too large to represent`);
      return { content: [{ type: 'text', text: String(sum) }], structuredContent: { sum } };
    },
  );

  server.registerTool(
    'current_time',
    {
      title: 'Current time',
      description: 'Tells the current date and time in an IANA time zone (for example Europe/Paris); UTC when none is given.',
      inputSchema: { timeZone: z.string().max(64).optional().describe('An IANA time zone name, such as America/New_York') },
      outputSchema: {
        utc: z.string().describe('The instant in ISO 8601, UTC'),
        timeZone: z.string().describe('The time zone the local time is in'),
        local: z.string().describe('The local date and time, YYYY-MM-DD HH:mm:ss'),
        offset: z.string().describe('The offset from UTC, such as GMT+02:00'),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    ({ timeZone = 'UTC' }) => {
      const instant = now();
      const local = localTime(instant, timeZone);
      if (local === undefined) return errorResult(`unknown time zone "${timeZone}": use an IANA name such as Europe/Paris or UTC`);
      const structured = { utc: instant.toISOString(), timeZone: local.timeZone, local: local.dateTime, offset: local.offset };
      return {
        content: [{ type: 'text', text: `${local.dateTime} in ${local.timeZone} (${local.offset}); ${structured.utc} UTC` }],
        structuredContent: structured,
      };
    },
  );

  server.registerTool(
    'note_write',
    {
      title: 'Write a note',
      description:
        `Saves a note under a title, replacing any note with the same title. Keeps at most ${MAX_NOTES} notes of at most ` +
        `${MAX_NOTE_BYTES} bytes each, in memory.`,
      inputSchema: {
        title: z.string().min(1).max(MAX_TITLE_LENGTH).describe('The note title; writing an existing title replaces that note'),
        text: z.string().describe(`The note text, at most ${MAX_NOTE_BYTES} bytes of UTF-8`),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    ({ title, text }) => {
      const bytes = encoder.encode(text).byteLength;
      if (bytes > MAX_NOTE_BYTES) return errorResult(`the note is ${bytes} bytes; a note may be at most ${MAX_NOTE_BYTES} bytes`);
      const replacing = notes.has(title);
      if (!replacing && notes.size >= MAX_NOTES) return errorResult(`the notes store is full (${MAX_NOTES} notes); replace an existing note instead`);
      notes.set(title, { text, bytes, updatedAt: now().toISOString() });
      // The write already happened; a client that cannot hear about it (none connected, stream gone) loses nothing.
      if (server.isConnected()) server.server.sendResourceListChanged().catch(() => {});
      return textResult(`${replacing ? 'Replaced' : 'Saved'} note "${title}" (${bytes} bytes).`);
    },
  );

  server.registerTool(
    'note_read',
    {
      title: 'Read a note',
      description: 'Returns the text of the note with the given title.',
      inputSchema: { title: z.string().min(1).max(MAX_TITLE_LENGTH).describe('The title of the note to read') },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    ({ title }) => {
      const note = notes.get(title);
      if (!note) return errorResult(`there is no note titled "${title}"`);
      return textResult(note.text);
    },
  );

  server.registerTool(
    'note_list',
    {
      title: 'List notes',
      description: 'Lists the titles and sizes of all notes, oldest first.',
      outputSchema: {
        notes: z.array(z.object({ title: z.string(), bytes: z.number().int(), updatedAt: z.string() })).describe('Every note, oldest first'),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    () => {
      const list = [...notes].map(([title, note]) => ({ title, bytes: note.bytes, updatedAt: note.updatedAt }));
      const text = list.length === 0 ? 'There are no notes.' : list.map((note) => `- ${note.title} (${note.bytes} bytes)`).join('\n');
      return { content: [{ type: 'text', text }], structuredContent: { notes: list } };
    },
  );

  server.registerResource(
    'notes',
    NOTES_URI,
    { title: 'All notes', description: 'Every note, as one Markdown document.', mimeType: 'text/markdown' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/markdown', text: notesDocument(notes) }] }),
  );

  server.registerResource(
    'note',
    new ResourceTemplate(`${NOTES_URI}/{title}`, {
      list: () => ({
        resources: [...notes.keys()].map((title) => ({ uri: noteUri(title), name: title, title, mimeType: 'text/plain' })),
      }),
      complete: { title: (value) => [...notes.keys()].filter((title) => title.startsWith(value)).map(encodeURIComponent) },
    }),
    { title: 'A note', description: 'One note by its URL-encoded title.', mimeType: 'text/plain' },
    (uri, variables) => {
      const title = decodeTitle(variables['title']);
      const note = title === undefined ? undefined : notes.get(title);
      // The code and message the SDK gives a URI that matches no resource at all, plus the URI in data (SEP-2164).
      if (!note) throw new McpError(ErrorCode.InvalidParams, `Resource ${uri.href} not found`, { uri: uri.href });
      return { contents: [{ uri: uri.href, mimeType: 'text/plain', text: note.text }] };
    },
  );

  server.registerPrompt(
    'summarize_notes',
    {
      title: 'Summarize notes',
      description: 'Asks the model to summarize every note, optionally with a focus.',
      argsSchema: { focus: z.string().max(200).optional().describe('What the summary should concentrate on') },
    },
    ({ focus }) => ({
      description: 'Summarize the notes',
      messages: [
        {
          role: 'user',
          content: {
            type: 'text',
            text:
              notes.size === 0
                ? 'There are no notes yet. Say so, and suggest writing one with the note_write tool.'
                : `Summarize these notes${focus ? `, concentrating on ${focus}` : ''}.\n\n${notesDocument(notes)}`,
          },
        },
      ],
    }),
  );

  return server;
}

function textResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }] };
}

function errorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

function noteUri(title: string): string {
  return `${NOTES_URI}/${encodeURIComponent(title)}`;
}

function decodeTitle(value: string | string[] | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

function notesDocument(notes: ReadonlyMap<string, Note>): string {
  if (notes.size === 0) return '_No notes yet._\n';
  return [...notes].map(([title, note]) => `## ${title}\n\n${note.text}\n`).join('\n');
}

/** The wall-clock time at `instant` in `timeZone`, or undefined when the runtime does not know the zone. */
function localTime(instant: Date, timeZone: string): { timeZone: string; dateTime: string; offset: string } | undefined {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'longOffset',
    });
  } catch {
    return undefined;
  }
  const parts = Object.fromEntries(format.formatToParts(instant).map((part) => [part.type, part.value]));
  return {
    // As asked, not resolvedOptions(): ICU reports some zones by older names (Asia/Kolkata as Asia/Calcutta).
    timeZone,
    dateTime: `${parts['year']}-${parts['month']}-${parts['day']} ${parts['hour']}:${parts['minute']}:${parts['second']}`,
    // longOffset writes UTC itself as plain "GMT".
    offset: parts['timeZoneName'] === 'GMT' ? 'GMT+00:00' : (parts['timeZoneName'] ?? 'GMT+00:00'),
  };
}
