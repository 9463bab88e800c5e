/**
 * Message bodies: UTF-8 text (the contract's `task` message takes any text up to 64 KiB),
 * optionally starting with the time it was sent, so that a consumer in another process can
 * measure end-to-end latency whatever client delivered it.
 */

/** Width of the stamp: epoch ms with three decimals, zero-padded, then a space. */
const STAMP_WIDTH = 18;

/** A body of `size` bytes of plain text. */
export function plainBody(size: number): Buffer {
  return Buffer.alloc(Math.max(size, 1), 'x');
}

/** Makes bodies of `size` bytes that begin with a send time. */
export function stamper(size: number): (sentAt: number) => Buffer {
  const template = plainBody(Math.max(size, STAMP_WIDTH + 1));
  return (sentAt) => {
    const body = Buffer.allocUnsafe(template.length);
    template.copy(body);
    body.write(sentAt.toFixed(3).padStart(STAMP_WIDTH - 1, '0'), 0, 'latin1');
    return body;
  };
}

/** The send time stamped at the start of a body, or NaN. */
export function readStamp(body: Buffer | string): number {
  const head = typeof body === 'string' ? body.slice(0, STAMP_WIDTH) : body.toString('latin1', 0, STAMP_WIDTH);
  return Number.parseFloat(head);
}
