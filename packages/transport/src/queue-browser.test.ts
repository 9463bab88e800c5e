import { describe, expect, it } from 'vitest';
import { browseError, QueueBrowseError } from './queue-browser.js';

describe('browseError', () => {
  const failureOf = (message: string) => {
    const err = browseError(new Error(message));
    return err instanceof QueueBrowseError ? err.failure : undefined;
  };

  it("reads the failures a tool can explain out of the client's words, keeping them as the message", () => {
    expect(
      failureOf(
        "Operation failed: QueueDeclare; 404 (NOT-FOUND) with message \"NOT_FOUND - no queue 'q' in vhost '/'\"",
      ),
    ).toBe('queue-not-found');
    expect(failureOf('PRECONDITION_FAILED - acknowledgement timed out')).toBe('ack-timeout');
    expect(failureOf('Channel closed')).toBe('connection-lost');
    expect(failureOf('Connection closed: 320 (CONNECTION-FORCED)')).toBe('connection-lost');
    const original = new Error('Channel ended, no reply will be forthcoming');
    const err = browseError(original);
    expect(err.message).toBe(original.message);
    expect(err.cause).toBe(original);
  });

  it('passes any other error on as it is', () => {
    const other = new Error('something else');
    expect(browseError(other)).toBe(other);
    expect(browseError('text')).toEqual(new Error('text'));
  });
});
