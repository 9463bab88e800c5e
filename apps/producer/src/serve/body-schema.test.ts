import { messages, publications } from '@hello-rabbit/broker-config';
import { describe, expect, it } from 'vitest';
import { bodyLimit, IDEMPOTENCY_KEY_PATTERN, payloadJsonSchema, publishBodySchema } from './body-schema.js';

describe('the request body schema', () => {
  it("is derived from the contract's message schema: non-empty text", () => {
    expect(payloadJsonSchema('hello')).toEqual({ type: 'string', minLength: 1 });
    expect(payloadJsonSchema('task')).toEqual({ type: 'string', minLength: 1 });
  });

  it('takes {"message": <text>} as JSON and the text itself as text/plain', () => {
    expect(publishBodySchema('hello')).toEqual({
      content: {
        'application/json': {
          schema: {
            type: 'object',
            properties: { message: { type: 'string', minLength: 1 } },
            required: ['message'],
            additionalProperties: false,
          },
        },
        'text/plain': { schema: { type: 'string', minLength: 1 } },
      },
    });
  });

  it('reads a body as large as the largest message a JSON string can spell, escaped', () => {
    for (const publication of ['hello', 'task_queue'] as const) {
      const { maxBytes } = messages[publications[publication].message];
      const escaped = JSON.stringify({ message: 'x'.repeat(maxBytes) }).replace(/x/g, '\\u0078');
      expect(Buffer.byteLength(escaped)).toBeLessThanOrEqual(bodyLimit(publication));
    }
  });
});

describe('the Idempotency-Key pattern', () => {
  // As Ajv (Fastify's validator) compiles a JSON Schema `pattern`.
  const pattern = new RegExp(IDEMPOTENCY_KEY_PATTERN, 'u');
  const valid = (key: string) => pattern.test(key);

  it.each([
    ['5b1c7d4e-8f2a-4c3b-9d6e-1f0a2b3c4d5e'],
    ['01HZX3N6Q9V8T7R5P4M2K1J0AB'],
    ['aGVsbG8gd29ybGQ='],
    ['order:42/v2'],
    ['x'.repeat(128)],
  ])('accepts %s', (key) => {
    expect(valid(key)).toBe(true);
  });

  it.each([[''], ['has space'], ['x'.repeat(129)], ['ünïcode'], ['line\nbreak']])('refuses %j', (key) => {
    expect(valid(key)).toBe(false);
  });
});
