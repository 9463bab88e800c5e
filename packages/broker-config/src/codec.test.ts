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
    expect(decodeMessage('hello', Buffer.from('Hello World!'), undefined)).toEqual({
      ok: true,
      payload: 'Hello World!',
    });
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

describe('decodeMessage, for a task', () => {
  const json = (body: string) => decodeMessage('task', Buffer.from(body), 'application/json');

  it('reads a text task, as the tutorials send it', () => {
    expect(decodeMessage('task', Buffer.from('First message.'), undefined)).toEqual({
      ok: true,
      payload: 'First message.',
    });
  });

  it('reads the JSON form {"task": ...}', () => {
    expect(json('{"task":"Second.."}')).toEqual({ ok: true, payload: 'Second..' });
  });

  it.each([
    ['not JSON at all', '{task: 1', /^invalid JSON: /],
    ['the wrong shape', '{"job":"x"}', /^JSON body: /],
    ['an extra key', '{"task":"x","more":1}', /^JSON body: /],
    ['a non-string task', '{"task":42}', /^JSON body: task: /],
    ['an array', '["x"]', /^JSON body: /],
    ['a __proto__ key', '{"task":"x","__proto__":{"polluted":true}}', /^JSON key '__proto__' is not allowed$/],
    [
      'a constructor key',
      '{"task":"x","constructor":{"prototype":{}}}',
      /^JSON key '(constructor|prototype)' is not allowed$/,
    ],
    ['an empty task', '{"task":""}', /^the message is empty$/],
  ])('refuses %s', (_, body, reason) => {
    const result = json(body);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('refuses a deeply nested document before parsing it', () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    expect(json(deep)).toEqual({ ok: false, reason: 'JSON nested 5000 levels deep, over the limit of 8' });
  });

  it('does not count brackets inside strings as nesting', () => {
    expect(json(JSON.stringify({ task: '[[[[[[[[[[{{{{{{{{{{ "\\"' }))).toMatchObject({ ok: true });
  });

  it('refuses a charset other than UTF-8', () => {
    expect(decodeMessage('task', Buffer.from('x'), 'text/plain; charset=latin1').ok).toBe(false);
  });

  it('refuses JSON where the kind takes only text', () => {
    expect(decodeMessage('hello', Buffer.from('{"task":"x"}'), 'application/json')).toEqual({
      ok: false,
      reason: "content type 'application/json' is not accepted",
    });
  });
});
