import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, InvalidMessageError } from './codec.js';
import { messages } from './messages.js';

describe('encodeMessage', () => {
  it('encodes text as UTF-8 with content type text/plain', () => {
    const encoded = encodeMessage('hello', 'Hello World! ✓');
    expect(encoded.contentType).toBe('text/plain');
    expect(encoded.content.toString('utf8')).toBe('Hello World! ✓');
  });

  it('refuses an empty message', () => {
    expect(() => encodeMessage('hello', '')).toThrow(InvalidMessageError);
  });

  it('refuses a message over the size limit, counting bytes not characters', () => {
    const limit = messages.hello.maxBytes;
    expect(() => encodeMessage('hello', 'a'.repeat(limit))).not.toThrow();
    expect(() => encodeMessage('hello', 'é'.repeat(limit / 2 + 1))).toThrow(/over the limit/);
  });
});

describe('decodeMessage', () => {
  it('accepts what the tutorial programs send: UTF-8 text without a content type', () => {
    expect(decodeMessage('hello', Buffer.from('Hello World!'), undefined)).toEqual({ ok: true, payload: 'Hello World!' });
  });

  it('accepts text/plain, with or without a charset', () => {
    expect(decodeMessage('hello', Buffer.from('hi'), 'text/plain').ok).toBe(true);
    expect(decodeMessage('hello', Buffer.from('hi'), 'text/plain; charset=utf-8').ok).toBe(true);
  });

  it('refuses invalid UTF-8 with its reason', () => {
    expect(decodeMessage('hello', Buffer.from([0xff, 0xfe, 0x41]), 'text/plain')).toEqual({
      ok: false,
      reason: 'body is not valid UTF-8',
    });
  });

  it('refuses an unexpected content type', () => {
    expect(decodeMessage('hello', Buffer.from('{}'), 'application/json')).toEqual({
      ok: false,
      reason: "content type 'application/json' is not accepted",
    });
  });

  it('refuses an oversize body before decoding it', () => {
    const result = decodeMessage('hello', Buffer.alloc(messages.hello.maxBytes + 1, 0xff), 'text/plain');
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/over the limit/) as unknown });
  });

  it('refuses an empty body', () => {
    expect(decodeMessage('hello', Buffer.alloc(0), undefined)).toEqual({ ok: false, reason: 'the message is empty' });
  });
});
