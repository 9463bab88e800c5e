import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';

/** The AMQP libraries that only the transport package may use. */
export const BROKER_LIBRARIES = ['amqplib', 'rascal'] as const;

/** One place a source file uses a broker library. */
export interface LibraryUse {
  /** `amqplib`, `rascal`, or a path inside one (`rascal/lib/...`). */
  readonly module: string;
  /** 1-based. */
  readonly line: number;
  /** `import type ...` (or every name imported as a type): no code of the library is loaded. */
  readonly typeOnly: boolean;
}

const isBrokerLibrary = (specifier: string) =>
  BROKER_LIBRARIES.some((name) => specifier === name || specifier.startsWith(`${name}/`));

/**
 * Every import, re-export, `require()` and `import()` of amqplib or Rascal in a TypeScript
 * or JavaScript source text.
 */
export function brokerLibraryUses(fileName: string, text: string): LibraryUse[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const uses: LibraryUse[] = [];
  const add = (node: ts.Node, specifier: string, typeOnly: boolean) => {
    if (!isBrokerLibrary(specifier)) return;
    uses.push({
      module: specifier,
      line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1,
      typeOnly,
    });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.phaseModifier === ts.SyntaxKind.TypeKeyword ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((element) => element.isTypeOnly)));
      add(node, node.moduleSpecifier.text, typeOnly);
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier !== undefined &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      add(node, node.moduleSpecifier.text, node.isTypeOnly);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const { expression } = node.moduleReference;
      if (ts.isStringLiteral(expression)) add(node, expression.text, node.isTypeOnly);
    } else if (ts.isCallExpression(node)) {
      const [first] = node.arguments;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      const isDynamicImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      if ((isRequire || isDynamicImport) && first !== undefined && ts.isStringLiteralLike(first))
        add(node, first.text, false);
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      add(node, node.argument.literal.text, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return uses;
}

/** Where a file may use a broker library, and why; undefined: nowhere. */
export interface Allowance {
  readonly why: string;
  /** Only `import type` (no library code loaded). */
  readonly typeOnly: boolean;
}

/**
 * The rule: the transport package is the one door to the broker. Outside it, only code
 * that exists to test, break or measure the broker may reach it directly, and the contract
 * may name Rascal's configuration types (it builds Rascal's topology declarations as data).
 * The paths are relative to the repository root, with `/`.
 */
export function allowance(path: string): Allowance | undefined {
  if (path.startsWith('packages/transport/'))
    return { why: 'the transport is the one door to the broker', typeOnly: false };
  if (/(^|\/)(test|test-cluster)\//.test(path) || /\.test\.[cm]?[jt]s$/.test(path)) {
    return { why: 'tests check the broker directly', typeOnly: false };
  }
  if (path.startsWith('tools/testkit/'))
    return { why: 'the testkit sets up and inspects brokers for tests', typeOnly: false };
  if (path.startsWith('tools/faults/'))
    return { why: 'the fault tools break brokers and check what survived', typeOnly: false };
  // The benchmark measures the project's path (clients/project.ts, through the transport's
  // API like the apps) against raw amqplib and other clients: its harness is exempt, not
  // the project's own client.
  if (path.startsWith('tools/bench/') && path !== 'tools/bench/src/clients/project.ts') {
    return { why: "the benchmark's harness and reference clients", typeOnly: false };
  }
  if (path.startsWith('packages/broker-config/'))
    return { why: "the contract names Rascal's configuration types", typeOnly: true };
  return undefined;
}

/** A use of a broker library where the rule does not allow it. */
export interface Violation extends LibraryUse {
  readonly path: string;
}

/** The uses in `path` (relative, `/`-separated) that the rule does not allow. */
export function violations(path: string, text: string): Violation[] {
  const allowed = allowance(path);
  return brokerLibraryUses(path, text)
    .filter((use) => allowed === undefined || (allowed.typeOnly && !use.typeOnly))
    .map((use) => ({ path, ...use }));
}

const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;
const SKIPPED = new Set(['node_modules', 'dist', '.git', '.turbo', 'coverage']);

/** Every source file of the repository (no dependencies, no build output), relative with `/`. */
export function sourceFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIPPED.has(entry.name) && !entry.name.startsWith('.')) walk(join(dir, entry.name));
      } else if (SOURCE.test(entry.name)) {
        found.push(relative(root, join(dir, entry.name)).split(sep).join('/'));
      }
    }
  };
  walk(root);
  return found.sort();
}

/** Every use of a broker library in the repository that the rule does not allow. */
export function repositoryViolations(root: string): Violation[] {
  return sourceFiles(root).flatMap((path) => violations(path, readFileSync(join(root, path), 'utf8')));
}

/** What a package's entry point exports. */
export interface EntryExports {
  /** Every exported name, values and types. */
  readonly names: readonly string[];
  /** `export * from ...`: names nobody can count or review. */
  readonly wildcards: readonly string[];
}

/** The names a module exports, by reading its text (re-exports and declarations). */
export function entryExports(fileName: string, text: string): EntryExports {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const names: string[] = [];
  const wildcards: string[] = [];
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement)) {
      const clause = statement.exportClause;
      const from =
        statement.moduleSpecifier !== undefined && ts.isStringLiteral(statement.moduleSpecifier)
          ? statement.moduleSpecifier.text
          : '';
      if (clause === undefined) wildcards.push(from);
      else if (ts.isNamespaceExport(clause)) names.push(clause.name.text);
      else names.push(...clause.elements.map((element) => element.name.text));
      continue;
    }
    const modifiers = ts.canHaveModifiers(statement) ? ts.getModifiers(statement) : undefined;
    if (modifiers?.some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword) !== true) continue;
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (ts.isIdentifier(declaration.name)) names.push(declaration.name.text);
      }
    } else if (
      (ts.isFunctionDeclaration(statement) ||
        ts.isClassDeclaration(statement) ||
        ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) ||
        ts.isEnumDeclaration(statement)) &&
      statement.name !== undefined
    ) {
      names.push(statement.name.text);
    }
  }
  return { names, wildcards };
}
