import type { z } from 'zod';
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
  | { readonly ok: true; readonly payload: T }
  | { readonly ok: false; readonly reason: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Checks a payload against its message kind and encodes it for the wire.
 * @throws InvalidMessageError when the payload breaks the schema or the size limit.
 */
export function encodeMessage<M extends MessageName>(name: M, payload: MessagePayload<M>): EncodedMessage {
  const kind = messages[name];
  const parsed = kind.schema.safeParse(payload);
  if (!parsed.success) {
    throw new InvalidMessageError(`invalid '${name}' message: ${describeIssues(parsed.error.issues)}`);
  }
  const content = Buffer.from(parsed.data, 'utf8');
  if (content.byteLength > kind.maxBytes) {
    throw new InvalidMessageError(
      `invalid '${name}' message: ${content.byteLength} bytes is over the limit of ${kind.maxBytes}`,
    );
  }
  return { content, contentType: kind.contentType };
}

/**
 * Decodes a delivered body. Never throws: a body the contract refuses comes back with the
 * reason, for the consumer to reject it without requeueing. The size limit is checked
 * before anything is decoded.
 */
export function decodeMessage<M extends MessageName>(
  name: M,
  content: Buffer,
  contentType: string | undefined,
): DecodeResult<MessagePayload<M>> {
  const kind: MessageKind<z.ZodString> = messages[name];
  if (content.byteLength > kind.maxBytes) {
    return { ok: false, reason: `body of ${content.byteLength} bytes is over the limit of ${kind.maxBytes}` };
  }
  if (!kind.acceptedContentTypes.includes(contentType?.toLowerCase())) {
    return { ok: false, reason: `content type '${contentType ?? ''}' is not accepted` };
  }
  let text: string;
  try {
    text = utf8.decode(content);
  } catch {
    return { ok: false, reason: 'body is not valid UTF-8' };
  }
  const parsed = kind.schema.safeParse(text);
  if (!parsed.success) return { ok: false, reason: describeIssues(parsed.error.issues) };
  return { ok: true, payload: parsed.data as MessagePayload<M> };
}

function describeIssues(issues: readonly { message: string; path: readonly PropertyKey[] }[]): string {
  return issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
