import * as z from 'zod';
import { FIBONACCI_MAX_N } from './exchanges.js';

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
  /**
   * How a payload becomes the body's text, for a kind whose payload is not the text itself
   * (a number): the schema then reads that text back. @default the payload is the text
   */
  readonly format?: ((payload: never) => string) | undefined;
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

/**
 * A request of tutorial 6: `n`, sent as its decimal text (`str(n)`, as the tutorial's client
 * does). A whole number from 0 to FIBONACCI_MAX_N, so that no request can hold a server.
 */
const fibonacciRequestSchema = z
  .string()
  .trim()
  .regex(/^\d{1,16}$/, 'n must be a whole number written in decimal digits')
  .transform(Number)
  .pipe(z.number().int().max(FIBONACCI_MAX_N, `n must be at most ${FIBONACCI_MAX_N}`));

/** A reply of tutorial 6: fib(n) as its decimal text (`str(response)`), any size. */
const fibonacciReplySchema = z
  .string()
  .trim()
  .regex(/^\d{1,1000}$/, 'the reply must be a whole number written in decimal digits')
  .transform((digits) => BigInt(digits));

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
  /** A log line of tutorials 3 to 5 (`info: Hello World!`): any non-empty UTF-8 text up to 64 KiB. */
  log: textMessage(64 * 1024),
  /** Tutorial 6's request: the `n` of fib(n). */
  fibonacciRequest: {
    schema: fibonacciRequestSchema,
    contentType: 'text/plain',
    maxBytes: 64,
    json: undefined,
    format: (n: number) => String(n),
  } as const satisfies MessageKind<typeof fibonacciRequestSchema>,
  /** Tutorial 6's reply: fib(n), a bigint (fib(1000) is far beyond 2^53). */
  fibonacciReply: {
    schema: fibonacciReplySchema,
    contentType: 'text/plain',
    maxBytes: 1024,
    json: undefined,
    format: (value: bigint) => value.toString(),
  } as const satisfies MessageKind<typeof fibonacciReplySchema>,
} as const;

export type MessageName = keyof typeof messages;
/** The payload type of a message kind: what a producer passes and a consumer receives. */
export type MessagePayload<M extends MessageName> = z.output<(typeof messages)[M]['schema']>;
