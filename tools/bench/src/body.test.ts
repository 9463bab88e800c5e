import { describe, expect, it } from 'vitest';
import { plainBody, readStamp, stamper } from './body.js';

describe('message bodies', () => {
  it('carries its send time at the start, readable from bytes or from decoded text', () => {
    const body = stamper(100)(1_780_000_000_123.456);
    expect(body.length).toBe(100);
    expect(readStamp(body)).toBeCloseTo(1_780_000_000_123.456, 3);
    expect(readStamp(body.toString('utf8'))).toBeCloseTo(1_780_000_000_123.456, 3);
  });

  it('is plain text of the size asked for', () => {
    expect(plainBody(10 * 1024).toString('utf8')).toMatch(/^x{10240}$/);
    expect(Number.isNaN(readStamp(plainBody(100)))).toBe(true);
  });
});
