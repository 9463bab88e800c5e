import { z } from 'zod';

/** Another encoding a consumer accepts for a message kind: a JSON document. */
export interface JsonForm<TPayload> {
  /** The document's shape. */
  readonly schema: z.ZodType;
  /** The payload a valid document stands for. */
  readonly toPayload: (document: never) => TPayload;
  /** Nesting deeper than this is refused before the document is parsed. */
  readonly maxDepth: number;
}

/**
 * A message kind: how its payload is checked, encoded on publish and decoded on delivery.
 * The size limit applies to the raw body, before any decoding, so an oversized body is
 * refused without being parsed.
 */
export interface MessageKind<TSchema extends z.ZodType> {
  /** The zod schema a payload must satisfy, on both sides. */
  readonly schema: TSchema;
  /**
   * The content type the producer sets: `text/plain`, a UTF-8 body, as the tutorials in
   * every language read it. A body with no content type is read as text too, since the
   * tutorial programs send none.
   */
  readonly contentType: 'text/plain';
  /** The largest body accepted, in bytes. */
  readonly maxBytes: number;
  /** Also accept `application/json` bodies of this form. */
  readonly json?: JsonForm<z.output<TSchema>> | undefined;
}

/** A non-empty UTF-8 text message. */
export function textMessage(maxBytes: number, json?: JsonForm<string>) {
  return {
    schema: z.string().min(1, 'the message is empty'),
    contentType: 'text/plain',
    maxBytes,
    json,
  } as const satisfies MessageKind<z.ZodString>;
}

/** The JSON form of a task: `{"task": "<text>"}` and nothing else. */
const taskDocument = z.strictObject({ task: z.string() });

/** Every message kind of the contract, by name. */
export const messages = {
  /** The tutorial's greeting: any non-empty UTF-8 text up to 64 KiB. */
  hello: textMessage(64 * 1024),
  /**
   * A work-queue task (tutorial 2): its text, each `.` standing for a unit of work. Sent as
   * text like the tutorials do; other services may send `{"task": "<text>"}` as JSON.
   */
  task: textMessage(64 * 1024, {
    schema: taskDocument,
    toPayload: (document: z.output<typeof taskDocument>) => document.task,
    maxDepth: 8,
  }),
} as const;

export type MessageName = keyof typeof messages;
/** The payload type of a message kind: what a producer passes and a consumer receives. */
export type MessagePayload<M extends MessageName> = z.output<(typeof messages)[M]['schema']>;
