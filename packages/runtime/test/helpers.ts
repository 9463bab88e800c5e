import { createLogger } from '../src/logger.js';

/** A logger that keeps its lines, to look into them. */
export function memoryLogger(secrets: readonly string[] = []) {
  const lines: string[] = [];
  const logger = createLogger({
    name: 'test',
    level: 'debug',
    secrets,
    destination: { write: (line: string) => lines.push(line) },
  });
  return { logger, lines };
}
