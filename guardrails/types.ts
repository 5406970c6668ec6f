/**
 * The vocabulary of the guardrails library: detectors find spans in text, the walker turns them into findings at
 * JSON paths. Pure: no I/O, no imports from the gateway (`src/`), runs on every runtime Portcullis targets.
 */

/** What kind of problem a detector looks for. */
export type Category = 'pii' | 'secret' | 'injection' | 'poisoning' | 'custom';

/** One span a detector found in a string: UTF-16 offsets `[start, end)`, a type such as `pii.email`, and a confidence in (0, 1]. */
export interface Match {
  type: string;
  start: number;
  end: number;
  confidence: number;
}

/** Scans one string. Must run in time linear in the string's length whatever the input (no backtracking blow-up). */
export interface Detector {
  readonly id: string;
  readonly category: Category;
  scan(text: string): Match[];
  /**
   * Optional: scans the string value of an object member knowing the member's name, which can add evidence
   * (`{"password": "…"}`, `{"ssn": "123456789"}`) or veto it (`{"sku": "123-45-6789"}`). Spans are in `value`. When a
   * detector has it, the walker calls it instead of `scan(value)` for member values (not for names or array items).
   */
  scanMember?(name: string, value: string): Match[];
}

/**
 * A match placed in a JSON document: `path` is an RFC 9535 normalized path to the string (`$['content'][0]['text']`),
 * or to a member name when the match is in a key (then `key` is true). Never carries the matched text.
 */
export interface Finding extends Match {
  detector: string;
  category: Category;
  path: string;
  key?: true;
}

/** Caps on what one inspection reads: a document past either is reported, never passed as if it were scanned. */
export interface InspectionLimits {
  /** UTF-8 bytes of strings (values and keys) read in all. */
  maxBytes: number;
  /** Nesting depth of arrays and objects. */
  maxDepth: number;
}

/** What an inspection of one JSON value found, and whether the value was over a cap (then `findings` is partial). */
export interface Inspection {
  findings: Finding[];
  overLimit?: 'bytes' | 'depth';
}

/** The parts of a tool definition (MCP `tools/list`) that are pinned and checked for poisoning: what the model reads and what the client validates. */
export interface ToolDefinition {
  name: string;
  title?: string | undefined;
  description?: string | undefined;
  inputSchema?: unknown;
  outputSchema?: unknown;
  annotations?: unknown;
}
