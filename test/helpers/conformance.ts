import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { runNode22, type Exit, type Node22Process } from './node22.js';

/**
 * The official MCP conformance suite's `server` command (@modelcontextprotocol/conformance 0.2.0-alpha.12, on Node 22
 * from the npm package node@22), shared by the test of the fixture upstream served directly
 * (test/fixtures/conformance-server.test.ts) and the one through the gateway
 * (test/conformance/server-through-gateway.test.ts). Pass/fail is read from the checks.json files the suite writes,
 * one folder per scenario.
 */

export const CONFORMANCE = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/conformance/dist/index.js', import.meta.url));
/** The longest one run of the suite may take. */
export const SUITE_TIMEOUT = 120_000;

/**
 * Every server scenario the suite runs for 2025-11-25, with the checks each must pass. Written out rather than
 * taken from the suite, so that a new suite version that adds, drops or renames a scenario or check shows up here.
 */
export const SCENARIOS: Record<string, string[]> = {
  'server-initialize': ['server-initialize', 'server-session-id-visible-ascii', 'wire-schema-valid'],
  'server-session-lifecycle': ['server-session-initialized-accepted', 'server-session-delete-accepted', 'server-session-terminated-returns-404'],
  'logging-set-level': ['logging-set-level', 'wire-schema-valid'],
  ping: ['ping', 'wire-schema-valid'],
  'completion-complete': ['completion-complete', 'wire-schema-valid'],
  'tools-list': ['tools-list', 'tools-name-format', 'wire-schema-valid'],
  'tools-call-simple-text': ['tools-call-simple-text', 'wire-schema-valid'],
  'tools-call-image': ['tools-call-image', 'wire-schema-valid'],
  'tools-call-audio': ['tools-call-audio', 'wire-schema-valid'],
  'tools-call-embedded-resource': ['tools-call-embedded-resource', 'wire-schema-valid'],
  'tools-call-mixed-content': ['tools-call-mixed-content', 'wire-schema-valid'],
  'tools-call-with-logging': ['tools-call-with-logging', 'wire-schema-valid'],
  'tools-call-error': ['tools-call-error', 'wire-schema-valid'],
  'tools-call-with-progress': ['tools-call-with-progress', 'wire-schema-valid'],
  'tools-call-sampling': ['tools-call-sampling', 'wire-schema-valid'],
  'tools-call-elicitation': ['tools-call-elicitation', 'wire-schema-valid'],
  'json-schema-2020-12': [
    'json-schema-2020-12-tool-found',
    'json-schema-2020-12-$schema',
    'json-schema-2020-12-$defs',
    'json-schema-2020-12-additionalProperties',
    'sep-2106-composition-keywords-preserved',
    'sep-2106-conditional-keywords-preserved',
    'sep-2106-anchor-keyword-preserved',
    'wire-schema-valid',
  ],
  'elicitation-sep1034-defaults': [
    'elicitation-sep1034-string-default',
    'elicitation-sep1034-integer-default',
    'elicitation-sep1034-number-default',
    'elicitation-sep1034-enum-default',
    'elicitation-sep1034-boolean-default',
    'wire-schema-valid',
  ],
  'server-sse-polling': ['server-sse-priming-event', 'server-sse-retry-field', 'server-sse-disconnect-resume'],
  'server-sse-multiple-streams': ['server-accepts-multiple-post-streams', 'server-sse-streams-functional'],
  'elicitation-sep1330-enums': [
    'elicitation-sep1330-untitled-single',
    'elicitation-sep1330-titled-single',
    'elicitation-sep1330-legacy-enumnames',
    'elicitation-sep1330-untitled-multi',
    'elicitation-sep1330-titled-multi',
    'wire-schema-valid',
  ],
  'resources-list': ['resources-list', 'wire-schema-valid'],
  'resources-read-text': ['resources-read-text', 'wire-schema-valid'],
  'resources-read-binary': ['resources-read-binary', 'wire-schema-valid'],
  'resources-templates-read': ['resources-templates-read', 'wire-schema-valid'],
  'resources-subscribe': ['resources-subscribe', 'wire-schema-valid'],
  'resources-unsubscribe': ['resources-unsubscribe', 'wire-schema-valid'],
  'prompts-list': ['prompts-list', 'wire-schema-valid'],
  'prompts-get-simple': ['prompts-get-simple', 'wire-schema-valid'],
  'prompts-get-with-args': ['prompts-get-with-args', 'wire-schema-valid'],
  'prompts-get-embedded-resource': ['prompts-get-embedded-resource', 'wire-schema-valid'],
  'prompts-get-with-image': ['prompts-get-with-image', 'wire-schema-valid'],
  'dns-rebinding-protection': ['localhost-host-rebinding-rejected', 'localhost-host-valid-accepted'],
};

/** What the scenarios call, in the order the fixture upstream (test/fixtures/conformance-server.ts) lists it. */
export const FIXTURE_TOOLS = [
  'test_simple_text',
  'test_image_content',
  'test_audio_content',
  'test_embedded_resource',
  'test_multiple_content_types',
  'test_tool_with_logging',
  'test_error_handling',
  'test_tool_with_progress',
  'test_sampling',
  'test_elicitation',
  'test_elicitation_sep1034_defaults',
  'test_elicitation_sep1330_enums',
  'json_schema_2020_12_tool',
  'test_reconnection',
];
export const FIXTURE_RESOURCES = ['test://static-text', 'test://static-binary', 'test://watched-resource'];
export const FIXTURE_RESOURCE_TEMPLATES = ['test://template/{id}/data'];
export const FIXTURE_PROMPTS = ['test_simple_prompt', 'test_prompt_with_arguments', 'test_prompt_with_embedded_resource', 'test_prompt_with_image'];

/** One check of a scenario, as the suite writes it to checks.json. */
export interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'SKIPPED' | 'INFO';
  errorMessage?: string;
  details?: Record<string, unknown>;
}

/** One entry of an expected-failures file: a scenario known to fail, and why. */
export interface ExpectedFailure {
  scenario: string;
  reason: string;
}

/** Reads `{ "failures": [{ scenario, reason }] }`; each scenario must be one of {@link SCENARIOS}, each reason a sentence. */
export async function readExpectedFailures(path: string): Promise<Set<string>> {
  const { failures } = JSON.parse(await readFile(path, 'utf8')) as { failures: ExpectedFailure[] };
  for (const failure of failures) {
    expect(Object.keys(SCENARIOS)).toContain(failure.scenario);
    expect(failure.reason.length).toBeGreaterThan(10);
  }
  return new Set(failures.map((failure) => failure.scenario));
}

/**
 * Runs the suite as child processes on Node 22, each with HOME and the working folder in a fresh folder under
 * `scratch`. `killAll()` ends whatever is still running (after a timeout, for instance).
 */
export class ConformanceRunner {
  readonly #scratch: string;
  readonly #running = new Set<Node22Process>();

  constructor(scratch: string) {
    this.#scratch = scratch;
  }

  /** Runs `conformance <args>` to its end (at most {@link SUITE_TIMEOUT}). */
  async run(args: readonly string[]): Promise<{ exit: Exit; home: string; suite: Node22Process }> {
    const home = await mkdtemp(join(this.#scratch, 'run-'));
    const suite = runNode22([CONFORMANCE, ...args], { cwd: home, env: { HOME: home } });
    this.#running.add(suite);
    const exit = await suite.waitForExit(SUITE_TIMEOUT);
    this.#running.delete(suite);
    return { exit, home, suite };
  }

  /** Runs `conformance server --url <url> <args>`, saving its results in a fresh folder. */
  async runServerSuite(url: string, args: readonly string[]): Promise<{ exit: Exit; outputDir: string; suite: Node22Process }> {
    const outputDir = join(this.#scratch, `results-${crypto.randomUUID()}`);
    const { exit, suite } = await this.run(['server', '--url', url, ...args, '--output-dir', outputDir]);
    return { exit, outputDir, suite };
  }

  async killAll(): Promise<void> {
    await Promise.all([...this.#running].map((suite) => suite.kill()));
  }
}

/** The suite's own results: one `server-<scenario>-<timestamp>/checks.json` per scenario run. */
export async function readResults(outputDir: string): Promise<Record<string, Check[]>> {
  const results: Record<string, Check[]> = {};
  for (const entry of await readdir(outputDir)) {
    const scenario = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/.exec(entry)?.[1];
    if (scenario === undefined) throw new Error(`unexpected entry in the results folder: ${entry}`);
    results[scenario] = JSON.parse(await readFile(join(outputDir, entry, 'checks.json'), 'utf8')) as Check[];
  }
  return results;
}

export function detailsOf(checks: Check[] | undefined, id: string): Record<string, unknown> | undefined {
  return checks?.find((check) => check.id === id)?.details;
}

/** The ids of the checks that passed, in the order the suite made them. */
function passedChecks(checks: Check[]): string[] {
  return checks.filter((check) => check.status === 'SUCCESS').map((check) => check.id);
}

function failedChecks(checks: Check[]): Check[] {
  return checks.filter((check) => check.status === 'FAILURE' || check.status === 'WARNING');
}

/**
 * Asserts one scenario's checks: a scenario not expected to fail has no failing (or warning) check and passed every
 * check it makes (none skipped or only informational); one expected to fail did not, so that a stale entry fails too.
 */
export function expectScenario(scenario: string, checks: Check[] | undefined, expectedToFail: boolean): void {
  expect(checks, `${scenario} did not run`).toBeDefined();
  const failures = failedChecks(checks ?? []);
  if (expectedToFail) {
    const passed = failures.length === 0 && JSON.stringify(passedChecks(checks ?? [])) === JSON.stringify(SCENARIOS[scenario]);
    expect(passed, `${scenario} is listed as an expected failure but passed`).toBe(false);
    return;
  }
  expect(failures, `${scenario}: ${JSON.stringify(failures, null, 2)}`).toEqual([]);
  expect(passedChecks(checks ?? []), `${scenario}: ${JSON.stringify(checks, null, 2)}`).toEqual(SCENARIOS[scenario]);
}

/** Asserts the results of a whole run: exactly the {@link SCENARIOS} ran, and each as {@link expectScenario} says. */
export function expectScenarios(results: Record<string, Check[]>, expectedFailures: ReadonlySet<string>): void {
  expect(Object.keys(results).sort()).toEqual(Object.keys(SCENARIOS).sort());
  for (const [scenario, checks] of Object.entries(results)) expectScenario(scenario, checks, expectedFailures.has(scenario));
}
