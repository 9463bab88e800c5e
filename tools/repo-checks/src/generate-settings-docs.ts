// `pnpm settings:generate`: writes each app's `--help` settings list and the tables of
// docs/settings.md from the settings schemas (see settings-docs.ts), and says which files
// changed. Run by tsx, after the workspace's packages are built (the root script sees to it).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatted, generatedFiles, loadShapes, readRepoFile, SETTINGS_PAGE } from './settings-docs.js';
import { repoRoot } from './workspace.js';

const page = readRepoFile(repoRoot, SETTINGS_PAGE);
if (page === undefined)
  throw new Error(`${SETTINGS_PAGE} is missing: it holds the hand-written text around the tables`);
const files = await formatted(generatedFiles(await loadShapes(repoRoot), page), repoRoot);
for (const [path, text] of files) {
  if (readRepoFile(repoRoot, path) === text) {
    process.stdout.write(`up to date: ${path}\n`);
  } else {
    writeFileSync(join(repoRoot, path), text);
    process.stdout.write(`written:    ${path}\n`);
  }
}
