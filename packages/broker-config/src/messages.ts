import { z } from 'zod';

/**
 * A message kind: how its payload is checked, encoded on publish and decoded on delivery.
 * The limits apply to the raw body, before any decoding, so an oversized body is refused
 * without being parsed.
 */
export interface MessageKind<TSchema extends z.ZodType> {
  /** How the body is written: UTF-8 text. */
  readonly format: 'text';
  /** The zod schema a payload must satisfy, on both sides. */
  readonly schema: TSchema;
  /** The content type the producer sets. */
  readonly contentType: string;
  /**
   * Content types the consumer accepts. `undefined` stands for a message published without
   * one, as the tutorial programs in every language do.
   */
  readonly acceptedContentTypes: readonly (string | undefined)[];
  /** The largest body accepted, in bytes. */
  readonly maxBytes: number;
}

/** A UTF-8 text message, the tutorial's `Hello World!`. */
export const textMessage = (maxBytes: number) =>
  ({
    format: 'text',
    schema: z.string().min(1, 'the message is empty'),
    contentType: 'text/plain',
    acceptedContentTypes: [undefined, 'text/plain', 'text/plain; charset=utf-8'],
    maxBytes,
  }) as const satisfies MessageKind<z.ZodString>;

/** Every message kind of the contract, by name. */
export const messages = {
  /** The tutorial's greeting: any non-empty UTF-8 text up to 64 KiB. */
  hello: textMessage(64 * 1024),
} as const;

export type MessageName = keyof typeof messages;
/** The payload type of a message kind: what a producer passes and a consumer receives. */
export type MessagePayload<M extends MessageName> = z.output<(typeof messages)[M]['schema']>;
