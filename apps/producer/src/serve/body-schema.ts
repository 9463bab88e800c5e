import { messages, publications, type MessageName, type PublicationName } from '@hello-rabbit/broker-config';
import * as z from 'zod';

/** A JSON Schema (draft-07, what Fastify's Ajv reads), as plain data. */
export type JsonSchema = Readonly<Record<string, unknown>>;

/**
 * The JSON Schema of a message kind's payload, derived from the contract's zod schema (so
 * the two never drift apart), without `$schema`: it is nested in the body's schema.
 */
export function payloadJsonSchema(kind: MessageName): JsonSchema {
  const schema = z.toJSONSchema(messages[kind].schema, { target: 'draft-07', io: 'input' });
  return Object.fromEntries(Object.entries(schema).filter(([key]) => key !== '$schema'));
}

/**
 * The body of `POST /publications/<name>/messages`, per content type:
 * - `application/json`: `{"message": <payload>}` and nothing else;
 * - `text/plain`: the payload itself, as UTF-8 text.
 * Fastify answers any other content type with 415.
 */
export function publishBodySchema(publication: PublicationName): {
  readonly content: Record<string, { schema: JsonSchema }>;
} {
  const payload = payloadJsonSchema(publications[publication].message);
  return {
    content: {
      'application/json': {
        schema: {
          type: 'object',
          properties: { message: payload },
          required: ['message'],
          additionalProperties: false,
        },
      },
      'text/plain': { schema: payload },
    },
  };
}

/**
 * The largest request body worth reading for a publication: its message kind's limit in
 * bytes, as a JSON string could spell it (every character escaped as `\uXXXX`: 6 bytes per
 * byte), plus room for the envelope. Anything larger is refused (413) before it is read;
 * a body within it is then held to the exact limit in bytes.
 */
export function bodyLimit(publication: PublicationName): number {
  return messages[publications[publication].message].maxBytes * 6 + 1024;
}

/**
 * `Idempotency-Key`: 1 to 128 characters that are safe in a header and in an AMQP
 * `message-id` (letters, digits and `-_.:~+/=`: UUIDs, ULIDs, base64 all fit).
 */
export const IDEMPOTENCY_KEY_PATTERN = '^[A-Za-z0-9._:~+/=-]{1,128}$';

export const idempotencyHeadersSchema = {
  type: 'object',
  properties: { 'idempotency-key': { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN } },
} as const;
