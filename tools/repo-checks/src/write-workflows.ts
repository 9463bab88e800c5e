// Writes every pipeline's workflow file (.github/workflows/<pipeline>.yml) from
// src/pipelines.ts and the workspace's dependency graph, and deletes generated ones that no
// pipeline names any more. Run it with `pnpm --filter @hello-rabbit/repo-checks write-workflows`.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedMarker, generatedWorkflows } from './pipelines.js';
import { workflowsDir } from './workflow.js';
import { repoRoot } from './workspace.js';

const written = generatedWorkflows(repoRoot);
for (const { path, text } of written) {
  const file = join(repoRoot, path);
  let before: string | undefined;
  try {
    before = readFileSync(file, 'utf8');
  } catch {
    before = undefined;
  }
  if (before === text) continue;
  writeFileSync(file, text);
  process.stdout.write(`wrote ${path}\n`);
}

const kept = new Set(written.map(({ path }) => path));
for (const name of readdirSync(join(repoRoot, workflowsDir))) {
  const path = `${workflowsDir}/${name}`;
  if (kept.has(path) || !/\.ya?ml$/.test(name)) continue;
  if (readFileSync(join(repoRoot, path), 'utf8').startsWith(generatedMarker)) {
    rmSync(join(repoRoot, path));
    process.stdout.write(`deleted ${path}\n`);
  }
}
