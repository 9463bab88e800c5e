import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { isMap, stringsAt } from './yaml-value.js';

/** The repository root, found from this file's place in tools/repo-checks/src. */
export const repoRoot = resolve(import.meta.dirname, '../../..');

/** Every field of package.json that declares dependencies. */
export const dependencyFields = [
  'dependencies',
  'devDependencies',
  'optionalDependencies',
  'peerDependencies',
] as const;

export type DependencyField = (typeof dependencyFields)[number];

export type PackageManifest = Readonly<Partial<Record<DependencyField, Readonly<Record<string, string>>>>> & {
  readonly name?: string;
  readonly version?: string;
  readonly packageManager?: string;
  readonly scripts?: Readonly<Record<string, string>>;
};

export interface WorkspacePackage {
  readonly name: string;
  /** Relative to the repository root, with `/` separators (as in a workflow's `paths`). */
  readonly dir: string;
  readonly manifest: PackageManifest;
}

export interface Workspace {
  readonly root: string;
  readonly rootManifest: PackageManifest;
  readonly packages: readonly WorkspacePackage[];
  /** Catalog name (`default` for `catalog:`) to the versions it pins. */
  readonly catalogs: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
}

function readManifest(path: string): PackageManifest {
  return JSON.parse(readFileSync(path, 'utf8')) as PackageManifest;
}

/**
 * The directories a `packages:` entry of pnpm-workspace.yaml names. Only the forms this
 * repository uses (`dir/*` and a plain directory) are understood; anything else is refused
 * rather than silently matching nothing.
 */
function expandWorkspacePattern(root: string, pattern: string): string[] {
  if (/[!?{}[\]]|\*\*/.test(pattern) || (pattern.includes('*') && !pattern.endsWith('/*'))) {
    throw new Error(`pnpm-workspace.yaml pattern '${pattern}' is not understood by repo-checks`);
  }
  const dirs = pattern.endsWith('/*')
    ? readdirSync(join(root, pattern.slice(0, -2)), { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => `${pattern.slice(0, -2)}/${entry.name}`)
    : [pattern.replace(/\/$/, '')];
  return dirs.filter((dir) => existsSync(join(root, dir, 'package.json'))).sort();
}

/** Reads pnpm-workspace.yaml and every workspace package's package.json. */
export function readWorkspace(root: string = repoRoot): Workspace {
  const config: unknown = parse(readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8'));
  const packages = stringsAt(config, 'packages')
    .flatMap((pattern) => expandWorkspacePattern(root, pattern))
    .map((dir): WorkspacePackage => {
      const manifest = readManifest(join(root, dir, 'package.json'));
      if (manifest.name === undefined) throw new Error(`${dir}/package.json has no name`);
      return { name: manifest.name, dir, manifest };
    });

  const catalogs = new Map<string, Readonly<Record<string, unknown>>>();
  if (isMap(config)) {
    if (isMap(config.catalog)) catalogs.set('default', config.catalog);
    if (isMap(config.catalogs)) {
      for (const [name, catalog] of Object.entries(config.catalogs)) {
        if (isMap(catalog)) catalogs.set(name, catalog);
      }
    }
  }

  return { root, rootManifest: readManifest(join(root, 'package.json')), packages, catalogs };
}

/** Every dependency a manifest declares, across all dependency fields. */
export function declaredDependencies(
  manifest: PackageManifest,
): { field: DependencyField; name: string; spec: string }[] {
  return dependencyFields.flatMap((field) =>
    Object.entries(manifest[field] ?? {}).map(([name, spec]) => ({ field, name, spec })),
  );
}

export function findPackage(workspace: Workspace, name: string): WorkspacePackage | undefined {
  return workspace.packages.find((pkg) => pkg.name === name);
}

/**
 * The workspace packages `name` depends on, directly or not, through any dependency field:
 * turbo's `--filter=<name>...` builds and tests exactly these along with the package.
 */
export function transitiveWorkspaceDependencies(workspace: Workspace, name: string): WorkspacePackage[] {
  const found = new Map<string, WorkspacePackage>();
  const visit = (pkg: WorkspacePackage): void => {
    for (const dependency of declaredDependencies(pkg.manifest)) {
      const target = findPackage(workspace, dependency.name);
      if (target !== undefined && target.name !== name && !found.has(target.name)) {
        found.set(target.name, target);
        visit(target);
      }
    }
  };
  const start = findPackage(workspace, name);
  if (start === undefined) throw new Error(`no workspace package is named ${name}`);
  visit(start);
  return [...found.values()].sort((a, b) => a.dir.localeCompare(b.dir));
}
