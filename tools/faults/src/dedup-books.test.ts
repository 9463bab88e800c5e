import { describe, expect, it } from 'vitest';
import type { LogLine, WorkerEvent } from './app-output.js';
import { dedupBook, workerTasks, type WorkerTrace } from './dedup-books.js';

const received = (body: string): WorkerEvent => ({ kind: 'received', body });
const done: WorkerEvent = { kind: 'done' };
const suppressedLine = (messageId: string): LogLine => ({ level: 30, time: 0, msg: 'duplicate suppressed', messageId });
const trace = (
  label: string,
  events: WorkerEvent[],
  options: { killed?: boolean; log?: LogLine[] } = {},
): WorkerTrace => ({
  label,
  events,
  log: options.log ?? [],
  killed: options.killed ?? false,
});

describe('workerTasks', () => {
  it('closes the oldest open task with each Done, and leaves the last one open when no Done follows', () => {
    expect(workerTasks([received('a'), done, received('b'), received('c'), done, done, received('d')])).toEqual([
      { body: 'a', done: true },
      { body: 'b', done: true },
      { body: 'c', done: true },
      { body: 'd', done: false },
    ]);
  });
});

describe('dedupBook', () => {
  const bodyOf = new Map([
    ['id-a', 'a'],
    ['id-b', 'b'],
  ]);

  it('counts tasks done more than once over the workers, and the suppressed deliveries by task', () => {
    const book = dedupBook(
      [
        trace('w1', [received('a'), done, received('b'), done], {
          log: [suppressedLine('id-b'), suppressedLine('id-x')],
        }),
        trace('w2', [received('a'), done, received('c')], { log: [suppressedLine('id-b')] }),
      ],
      bodyOf,
      1,
    );
    expect([...book.doneTwice]).toEqual([['a', 2]]);
    expect(book.outsideWindow).toEqual(['a']);
    expect(book.inWindow).toEqual([]);
    expect([...book.suppressed]).toEqual([['b', 2]]);
    expect(book.suppressedTotal).toBe(3);
    expect(book.unknownSuppressed).toEqual(['id-x']);
    expect(book.figures).toEqual({ doneTwice: 1, inWindow: 0, suppressed: 3 });
  });

  it('puts in the window a task a killed worker finished last (its Done, no later task), done again by another', () => {
    const book = dedupBook(
      [
        trace('victim', [received('a'), done, received('b'), done], { killed: true }),
        trace('other', [received('b'), done, received('a'), done]),
      ],
      bodyOf,
      1,
    );
    expect([...book.windowCandidates]).toEqual([['victim', ['b']]]);
    expect(book.inWindow).toEqual(['b']);
    // 'a' was finished before the victim's last task: it was acked (prefetch 1), so marked done.
    expect(book.outsideWindow).toEqual(['a']);
  });

  it('leaves out of the window a task the killed worker was still on (no Done), and one done three times', () => {
    const book = dedupBook(
      [
        trace('victim', [received('a'), done, received('b')], { killed: true }),
        trace('other', [received('b'), done, received('a'), done, received('a'), done]),
      ],
      bodyOf,
      1,
    );
    expect(book.windowCandidates.get('victim')).toEqual([]);
    expect([...book.doneTwice]).toEqual([['a', 3]]);
    expect(book.outsideWindow).toEqual(['a']);
  });
});
