import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';

/** A configuration that cannot be used; `issues` name the dotted path of each problem. */
export class ConfigError extends Error {
  readonly issues: readonly string[];

  constructor(source: string, issues: readonly string[]) {
    super(`invalid configuration in ${source}:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces `${NAME}` in every string value with the environment variable NAME (`$${` writes a literal `${`).
 * Interpolating parsed values rather than the file's text means a secret can never change the file's structure.
 */
export function interpolateEnv(value: unknown, env: Readonly<Record<string, string | undefined>>, path: string[] = [], missing: string[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE, (match, name: string | undefined) => {
      if (name === undefined) return '${';
      const resolved = env[name];
      if (resolved === undefined) {
        missing.push(`${path.join('.') || '(root)'}: environment variable ${name} is not set`);
        return match;
      }
      return resolved;
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => interpolateEnv(item, env, [...path, String(index)], missing));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateEnv(item, env, [...path, key], missing)]));
  }
  return value;
}

function describe(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = issue.path.map(String).join('.') || '(root)';
    if (issue.code === 'unrecognized_keys') return `${path}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
    // A bad key of a record (e.g. an environment variable name): say what is wrong with the key itself.
    if (issue.code === 'invalid_key') return `${path}: ${issue.issues[0]?.message ?? issue.message}`;
    return `${path}: ${issue.message}`;
  });
}

/** Validates a configuration object (already interpolated). */
export function parseConfig(input: unknown, source = 'configuration'): Config {
  const result = configSchema.safeParse(input ?? {});
  if (!result.success) throw new ConfigError(source, describe(result.error.issues));
  return result.data;
}

function readJson(text: string): unknown {
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // YAML flow mappings also start with `{`; the YAML parser reads them, and reports what is wrong with either.
    return undefined;
  }
}

/** `PORTCULLIS_ENCRYPTION_KEY` supplies `encryptionKey` when the file does not set it. */
function withEnvironmentSecrets(document: unknown, env: Readonly<Record<string, string | undefined>>): unknown {
  const key = env.PORTCULLIS_ENCRYPTION_KEY;
  if (key === undefined || document === null || typeof document !== 'object' || Array.isArray(document) || 'encryptionKey' in document) return document;
  return { ...document, encryptionKey: key };
}

/**
 * Parses YAML text, interpolates `${ENV}` references and validates the result. A JSON document (which is YAML too)
 * is read by `JSON.parse`, fifty times faster than the YAML parser on a large file, e.g. thousands of tenants.
 */
export function parseConfigText(text: string, env: Readonly<Record<string, string | undefined>>, source: string): Config {
  let document: unknown;
  try {
    document = readJson(text) ?? parseYaml(text);
  } catch (error) {
    throw new ConfigError(source, [`(root): not valid YAML: ${(error as Error).message.split('\n')[0]}`]);
  }
  const missing: string[] = [];
  const interpolated = interpolateEnv(document, env, [], missing);
  if (missing.length > 0) throw new ConfigError(source, missing);
  return parseConfig(withEnvironmentSecrets(interpolated, env), source);
}
