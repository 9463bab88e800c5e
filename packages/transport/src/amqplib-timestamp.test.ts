import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The publisher stamps every message with a `timestamp` (whole seconds). amqplib encodes it
// as a 64-bit BigInt. (A patch once spared that BigInt: about 0.1 us a message, lost in the
// benchmark's noise, so it went; see docs/upstream.md.) This pins what the publisher relies
// on across amqplib upgrades: encoded here as amqplib writes a content header frame, and
// decoded as amqplib reads one.
const require = createRequire(import.meta.url);
// amqplib's package exports hide lib/: reach it from the main module's folder.
const defs = require(path.join(path.dirname(require.resolve('amqplib')), 'lib', 'defs.js')) as {
  encodeProperties(classId: number, channel: number, size: number, fields: Record<string, unknown>): Buffer;
  decode(classId: number, fields: Buffer): Record<string, unknown>;
};
const BASIC = 60;

/**
 * Frame: type (1), channel (2), size (4), payload, end (1);
 * payload: class (2), weight (2), body size (8), properties.
 */
function roundTrip(fields: Record<string, unknown>): Record<string, unknown> {
  const frame = defs.encodeProperties(BASIC, 1, 100, fields);
  const payload = frame.subarray(7, frame.length - 1);
  return defs.decode(BASIC, payload.subarray(12));
}

describe("amqplib's timestamp property", () => {
  it.each([0, 1, 1_795_816_841, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER])(
    'round-trips %d seconds',
    (timestamp) => {
      expect(roundTrip({ timestamp, messageId: 'm-1', deliveryMode: 2 })).toMatchObject({
        timestamp,
        messageId: 'm-1',
        deliveryMode: 2,
      });
    },
  );

  it('writes the 8 bytes big-endian, as the AMQP spec and every other client read them', () => {
    const frame = defs.encodeProperties(BASIC, 1, 100, { timestamp: 2 ** 32 + 2 });
    // flags (2) then the timestamp: the only property set.
    expect(frame.subarray(7 + 12 + 2, 7 + 12 + 2 + 8)).toEqual(Buffer.from([0, 0, 0, 1, 0, 0, 0, 2]));
  });

  it('refuses a negative timestamp', () => {
    expect(() => defs.encodeProperties(BASIC, 1, 100, { timestamp: -1 })).toThrow(RangeError);
  });

  it('refuses a fraction of a second (the publisher sends whole seconds)', () => {
    expect(() => defs.encodeProperties(BASIC, 1, 100, { timestamp: 1.5 })).toThrow(RangeError);
  });
});
