import { createLogger, parseAmqpUrl, type AmqpEndpoint, type Logger } from '@hello-rabbit/runtime';

export function endpointOf(url: string): AmqpEndpoint {
  const parsed = parseAmqpUrl(url);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.endpoint;
}

/** A logger that keeps its lines, to look into them. */
export function memoryLogger(secrets: readonly string[] = []): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({
    name: 'test',
    level: 'debug',
    secrets,
    destination: { write: (line: string) => lines.push(line) },
  });
  return { logger, lines };
}
