import { describe, expect, it } from 'vitest';
import { createProgress } from './progress.js';

function fakeStream(isTTY: boolean) {
  let written = '';
  const stream = {
    isTTY,
    columns: 120,
    write: (chunk: string) => {
      written += chunk;
      return true;
    },
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
    on: () => stream,
    removeListener: () => stream,
  };
  return { stream: stream as unknown as NodeJS.WriteStream, written: () => written };
}

describe('createProgress', () => {
  it('draws a bar with the rate on a terminal', () => {
    const { stream, written } = fakeStream(true);
    const progress = createProgress(10, stream);
    for (let i = 0; i < 10; i++) progress.settled(i !== 3);
    progress.stop();
    expect(written()).toMatch(/10\/10 settled \| \d+ msg\/s \| 1 not confirmed/);
  });

  it('stays quiet when the output is not a terminal', () => {
    const { stream, written } = fakeStream(false);
    const progress = createProgress(10, stream);
    progress.settled(true);
    progress.stop();
    expect(written()).toBe('');
  });
});
