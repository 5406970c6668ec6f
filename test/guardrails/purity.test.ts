/**
 * guardrails/ is a pure library that must run on Node and on Cloudflare Workers: it imports nothing from the gateway
 * (src/), the authorization server (oauth/) or Node built-ins (node:*), only its own modules and re2js, and uses no
 * Node globals. Checked by parsing every file's import and export lines (and dynamic imports / require calls).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, normalize, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';

const dir = join(import.meta.dirname, '../../guardrails');
const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).sort();
const ALLOWED_PACKAGES = new Set(['re2js']);
const NODE_GLOBALS = new Set(['process', 'Buffer', 'require', '__dirname', '__filename', 'global', 'setImmediate']);

interface Source {
  file: string;
  specifiers: string[];
  globals: string[];
}

function read(file: string): Source {
  const text = readFileSync(join(dir, file), 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const specifiers: string[] = [];
  const globals: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
      const arg = node.arguments[0];
      specifiers.push(arg && ts.isStringLiteral(arg) ? arg.text : '<computed>');
    } else if (ts.isImportEqualsDeclaration(node)) {
      specifiers.push(node.moduleReference.getText(sf));
    } else if (ts.isIdentifier(node) && NODE_GLOBALS.has(node.text)) {
      const parent = node.parent;
      const isPropertyName = (ts.isPropertyAccessExpression(parent) && parent.name === node) || (ts.isPropertyAssignment(parent) && parent.name === node);
      if (!isPropertyName) globals.push(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { file, specifiers, globals };
}

describe('guardrails/ is a pure library', () => {
  const sources = files.map(read);

  test('the parser sees import, export, dynamic import and require lines (self-check)', () => {
    const sf = ts.createSourceFile('x.ts', "import a from 'node:fs';\nexport * from '../src/app.js';\nconst b = await import('x');\nrequire('y');", ts.ScriptTarget.ES2022, true);
    let n = 0;
    const visit = (node: ts.Node): void => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) n++;
      if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) n++;
      ts.forEachChild(node, visit);
    };
    visit(sf);
    expect(n).toBe(4);
  });

  test('has the modules the gateway uses', () => {
    expect(files).toEqual(expect.arrayContaining(['index.ts', 'types.ts', 'inspect.ts', 'redact.ts', 'custom.ts', 'registry.ts']));
  });

  test.each(files)('%s imports only guardrails/ modules and re2js', (file) => {
    const source = sources.find((s) => s.file === file);
    for (const spec of source?.specifiers ?? []) {
      expect(spec.startsWith('node:'), `${file} imports ${spec}`).toBe(false);
      if (spec.startsWith('.')) {
        const target = relative(dir, normalize(join(dir, file, '..', spec)));
        expect(target.startsWith('..'), `${file} imports ${spec}, outside guardrails/`).toBe(false);
        expect(spec.endsWith('.js'), `${file} imports ${spec} without .js`).toBe(true);
      } else {
        expect(ALLOWED_PACKAGES.has(spec), `${file} imports package ${spec}`).toBe(true);
      }
    }
  });

  test.each(files)('%s uses no Node globals', (file) => {
    expect(sources.find((s) => s.file === file)?.globals).toEqual([]);
  });
});
