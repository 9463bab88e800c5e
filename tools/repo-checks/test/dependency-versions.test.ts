import { describe, expect, it } from 'vitest';
import { declaredDependencies, findPackage, readWorkspace, type PackageManifest } from '../src/workspace.js';

// The house rule "versions in one place": external versions live in the pnpm catalog of
// pnpm-workspace.yaml, workspace packages are always the workspace's own copy.
const workspace = readWorkspace();

const manifests: { file: string; manifest: PackageManifest }[] = [
  { file: 'package.json', manifest: workspace.rootManifest },
  ...workspace.packages.map((pkg) => ({ file: `${pkg.dir}/package.json`, manifest: pkg.manifest })),
];

function dependencies(): { where: string; name: string; spec: string; internal: boolean }[] {
  return manifests.flatMap(({ file, manifest }) =>
    declaredDependencies(manifest).map(({ field, name, spec }) => ({
      where: `${file} ${field}["${name}"]: "${spec}"`,
      name,
      spec,
      internal: findPackage(workspace, name) !== undefined,
    })),
  );
}

describe('dependency versions', () => {
  it('declares every dependency on a workspace package as workspace:*', () => {
    const offending = dependencies().filter((d) => d.internal && d.spec !== 'workspace:*');
    expect(offending.map((d) => d.where)).toEqual([]);
  });

  it('declares workspace: only for packages the workspace has', () => {
    const offending = dependencies().filter((d) => !d.internal && d.spec.startsWith('workspace:'));
    expect(offending.map((d) => d.where)).toEqual([]);
  });

  it('takes the version of every external dependency from the catalog', () => {
    const offending = dependencies().filter((d) => !d.internal && !d.spec.startsWith('catalog:'));
    expect(offending.map((d) => d.where)).toEqual([]);
  });

  it('finds every catalog: version in the catalog it names', () => {
    const offending = dependencies().filter((d) => {
      if (!d.spec.startsWith('catalog:')) return false;
      const catalog = workspace.catalogs.get(d.spec.slice('catalog:'.length) || 'default');
      return catalog?.[d.name] === undefined;
    });
    expect(offending.map((d) => d.where)).toEqual([]);
  });
});
