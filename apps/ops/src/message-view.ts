import type { QueueMessage } from '@hello-rabbit/transport/operations';

/** A message body for people: text when it is UTF-8, base64 otherwise, cut at `maxBytes`. */
export interface BodyView {
  /** The whole body's size. */
  readonly bytes: number;
  readonly encoding: 'utf8' | 'base64';
  /** The body, or its first `maxBytes` bytes. */
  readonly text: string;
  readonly truncated: boolean;
}

export interface MessageView {
  /** Position in the queue when it was looked at, from 1. */
  readonly position: number;
  readonly redelivered: boolean;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, unknown>>;
  readonly body: BodyView;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8');

export function viewBody(content: Buffer, maxBytes: number): BodyView {
  const truncated = content.byteLength > maxBytes;
  let isText = true;
  try {
    utf8.decode(content);
  } catch {
    isText = false;
  }
  const shown = truncated ? content.subarray(0, maxBytes) : content;
  if (!isText) return { bytes: content.byteLength, encoding: 'base64', text: shown.toString('base64'), truncated };
  // A cut in the middle of a character leaves a replacement character at the end: drop it.
  const text = lenient.decode(shown);
  return {
    bytes: content.byteLength,
    encoding: 'utf8',
    text: truncated ? text.replace(/\uFFFD+$/, '') : text,
    truncated,
  };
}

/** The AMQP properties a message has, by their AMQP names, the timestamp also as a date. */
export function viewMessage(message: QueueMessage, position: number, maxBytes: number): MessageView {
  const { headers, ...rest } = message.properties;
  const timestamp: unknown = rest.timestamp;
  const properties: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(rest) as [string, unknown][]) {
    if (value !== undefined) properties[name] = value;
  }
  if (typeof timestamp === 'number') properties.timestampIso = new Date(timestamp * 1000).toISOString();
  return {
    position,
    redelivered: message.redelivered,
    properties,
    headers: plain(headers ?? {}) as Record<string, unknown>,
    body: viewBody(message.content, maxBytes),
  };
}

/** Header values as JSON can show them: byte arrays as text, AMQP timestamps as dates. */
function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (record['!'] === 'timestamp' && typeof record.value === 'number')
      return new Date(record.value * 1000).toISOString();
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}
