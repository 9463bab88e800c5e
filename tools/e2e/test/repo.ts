import { fileURLToPath } from 'node:url';

/** The workspace root, where a user types `pnpm --filter ... start`. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
