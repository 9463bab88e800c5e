import type * as z from 'zod';
import { messages, type MessageKind, type MessageName, type MessagePayload } from './messages.js';

/** A payload that the contract refuses, on either side. */
export class InvalidMessageError extends Error {
  readonly code = 'INVALID_MESSAGE';
  override readonly name = 'InvalidMessageError';
}

export interface EncodedMessage {
  readonly content: Buffer;
  readonly contentType: string;
}

export type DecodeResult<T> =
  { readonly ok: true; readonly payload: T } | { readonly ok: false; readonly reason: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Keys that would reach an object's prototype once a parsed document is merged or copied. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Checks a payload against its message kind and encodes it for the wire (UTF-8 text).
 * @throws InvalidMessageError when the payload breaks the schema or the size limit.
 */
export function encodeMessage<M extends MessageName>(name: M, payload: MessagePayload<M>): EncodedMessage {
  const kind: MessageKind<z.ZodType> = messages[name];
  // A text kind's payload is its text; another kind (a number) says how it is written.
  const text = kind.format === undefined ? (payload as string) : kind.format(payload as never);
  const parsed = kind.schema.safeParse(text);
  if (!parsed.success) {
    throw new InvalidMessageError(`invalid '${name}' message: ${describeIssues(parsed.error.issues)}`);
  }
  const content = Buffer.from(text, 'utf8');
  if (content.byteLength > kind.maxBytes) {
    throw new InvalidMessageError(
      `invalid '${name}' message: ${content.byteLength} bytes is over the limit of ${kind.maxBytes}`,
    );
  }
  return { content, contentType: kind.contentType };
}

/**
 * Decodes a delivered body. Never throws: a body the contract refuses comes back with the
 * reason, for the consumer to set it aside. The size and nesting limits are checked before
 * anything is parsed.
 */
export function decodeMessage<M extends MessageName>(
  name: M,
  content: Buffer,
  contentType: string | undefined,
): DecodeResult<MessagePayload<M>> {
  const kind: MessageKind<z.ZodType> = messages[name];
  if (content.byteLength > kind.maxBytes) {
    return { ok: false, reason: `body of ${content.byteLength} bytes is over the limit of ${kind.maxBytes}` };
  }
  const form = formOf(contentType);
  if (form === undefined || (form === 'json' && kind.json === undefined)) {
    return { ok: false, reason: `content type '${String(contentType)}' is not accepted` };
  }
  let text: string;
  try {
    text = utf8.decode(content);
  } catch {
    return { ok: false, reason: 'body is not valid UTF-8' };
  }
  let payload: unknown = text;
  if (form === 'json' && kind.json !== undefined) {
    const document = parseJson(text, kind.json.maxDepth);
    if (!document.ok) return document;
    const shaped = kind.json.schema.safeParse(document.payload);
    if (!shaped.success) return { ok: false, reason: `JSON body: ${describeIssues(shaped.error.issues)}` };
    payload = kind.json.toPayload(shaped.data as never);
  }
  const parsed = kind.schema.safeParse(payload);
  if (!parsed.success) return { ok: false, reason: describeIssues(parsed.error.issues) };
  return { ok: true, payload: parsed.data as MessagePayload<M> };
}

/** Which form a content type announces: text (also when absent), JSON, or neither. */
function formOf(contentType: string | undefined): 'text' | 'json' | undefined {
  if (contentType === undefined || contentType === 'text/plain') return 'text';
  if (contentType === 'application/json') return 'json';
  const [type = '', ...parameters] = contentType
    .toLowerCase()
    .split(';')
    .map((part) => part.trim());
  const charset = parameters.find((p) => p.startsWith('charset='));
  if (charset !== undefined && charset !== 'charset=utf-8') return undefined;
  if (type === 'text/plain') return 'text';
  if (type === 'application/json') return 'json';
  return undefined;
}

/**
 * JSON.parse with two guards: nesting is measured on the raw text first (a document
 * thousands of levels deep never reaches the parser), and keys that reach prototypes are
 * refused.
 */
export function parseJson(text: string, maxDepth: number): DecodeResult<unknown> {
  const depth = nestingDepth(text);
  if (depth > maxDepth) return { ok: false, reason: `JSON nested ${depth} levels deep, over the limit of ${maxDepth}` };
  let forbidden: string | undefined;
  let document: unknown;
  try {
    document = JSON.parse(text, (key, value: unknown) => {
      if (FORBIDDEN_KEYS.has(key)) forbidden ??= key;
      return value;
    });
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${(err as Error).message}` };
  }
  if (forbidden !== undefined) return { ok: false, reason: `JSON key '${forbidden}' is not allowed` };
  return { ok: true, payload: document };
}

/** The deepest nesting of arrays and objects in a JSON text, strings skipped. */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

function describeIssues(issues: readonly { message: string; path: readonly PropertyKey[] }[]): string {
  return issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
