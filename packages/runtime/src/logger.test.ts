import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => lines.push(line) } };
}

describe('createLogger', () => {
  it('writes JSON lines with the program name', () => {
    const { lines, destination } = capture();
    createLogger({ name: 'producer', level: 'info', destination }).info({ queue: 'hello' }, 'hi');
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ name: 'producer', queue: 'hello', msg: 'hi', level: 30 });
  });

  it('scrubs the secrets from messages and errors', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ name: 'x', level: 'debug', secrets: ['s3cret'], destination });
    logger.error({ err: new Error('cannot log in to amqp://u:s3cret@h') }, 'failed with s3cret');
    logger.debug('again s3cret');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).not.toContain('s3cret');
    expect(lines[0]).toContain('amqp://u:***@h');
  });

  it('scrubs the secrets from every field of a line, %-encoded and JSON-escaped forms too', () => {
    const { lines, destination } = capture();
    const secret = 'p@ss:w/rd%#?"\\ü';
    const logger = createLogger({ name: 'x', level: 'trace', secrets: [secret], destination });
    logger.trace({ url: `amqp://u:${encodeURIComponent(secret)}@h`, nested: { password: secret } }, 'connecting');
    logger.info({ config: { password: secret } });
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).not.toContain(secret);
      expect(line).not.toContain(encodeURIComponent(secret));
      expect(line).not.toContain(JSON.stringify(secret).slice(1, -1));
      expect(JSON.parse(line)).toBeTypeOf('object');
    }
    expect(lines[0]).toContain('amqp://u:***@h');
  });

  it('writes nothing below its level', () => {
    const { lines, destination } = capture();
    createLogger({ name: 'x', level: 'warn', destination }).info('quiet');
    expect(lines).toHaveLength(0);
  });
});
