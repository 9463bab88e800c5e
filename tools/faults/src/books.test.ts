import { describe, expect, it } from 'vitest';
import { Books, renderTable, toRow } from './books.js';

describe('Books', () => {
  it('classifies each message once: lost, duplicated, recovered, unexpected', () => {
    const books = new Books('example');
    for (const id of ['a', 'b', 'c', 'd', 'e']) books.send(id);
    books.settle('a', 'confirmed');
    books.settle('b', 'confirmed');
    books.settle('c', 'confirmed');
    books.settle('d', 'failed');
    books.settle('e', 'unsent');
    books.deliver('a');
    books.deliver('a');
    books.deliver('d');
    books.deadLetter('c');
    books.deliver('z');

    expect(books.classify()).toEqual({
      scenario: 'example',
      sent: 5,
      confirmed: 3,
      inDoubt: 2,
      delivered: 3,
      deadLettered: 1,
      lost: ['b'],
      duplicated: ['a'],
      recovered: ['d'],
      unexpected: ['z'],
    });
  });

  it('keeps a confirmation over a later failure report of the same message', () => {
    const books = new Books('resend');
    books.send('a');
    books.settle('a', 'confirmed');
    books.settle('a', 'failed');
    expect(books.classify()).toMatchObject({ confirmed: 1, inDoubt: 0, lost: ['a'] });
  });

  it('counts a message the producer never reported on as in doubt, not lost', () => {
    const books = new Books('no outcome');
    books.send('a');
    expect(books.classify()).toMatchObject({ sent: 1, confirmed: 0, inDoubt: 1, lost: [] });
  });
});

describe('renderTable', () => {
  it('prints one aligned row per scenario with every figure, and a legend', () => {
    const books = new Books('broker kill -9');
    books.send('a');
    books.settle('a', 'confirmed');
    books.deliver('a');
    const text = renderTable([toRow(books.classify(), 12.3, 'restarted once')]);
    const lines = text.split('\n');
    const header = lines.find((line) => line.startsWith('| scenario'));
    const row = lines.find((line) => line.startsWith('| broker kill -9'));
    expect(header).toMatch(/\| sent \| confirmed \| in doubt \| delivered \| dead-lettered \| lost \| duplicated \|/);
    expect(row).toMatch(/\|\s+1 \|\s+1 \|\s+0 \|\s+1 \|\s+0 \|\s+0 \|\s+0 \|/);
    expect(row).toContain('12 s');
    expect(row).toContain('restarted once');
    expect(header?.length).toBe(row?.length);
    expect(text).toContain('1 scenarios, 0 lost');
    expect(text).toMatch(/lost: confirmed but neither delivered nor dead-lettered/);
  });

  it('adds the dedup columns before the time when a row has them, with - on the rows without', () => {
    const books = new Books('shared dedup');
    books.send('a');
    books.settle('a', 'confirmed');
    books.deliver('a');
    const plain = toRow(books.classify(), 1, 'no store');
    expect(renderTable([plain])).not.toContain('done twice');
    const text = renderTable([
      plain,
      toRow(books.classify(), 2, 'redis', true, { doneTwice: 3, inWindow: 1, suppressed: 42 }),
    ]);
    const lines = text.split('\n');
    expect(lines.find((line) => line.startsWith('| scenario'))).toMatch(
      /\| unexpected \| done twice \| in the window \| suppressed \| time \|/,
    );
    expect(lines.find((line) => line.includes('redis'))).toMatch(/\|\s+3 \|\s+1 \|\s+42 \|\s+2 s \|/);
    expect(lines.find((line) => line.includes('no store'))).toMatch(/\|\s+- \|\s+- \|\s+- \|\s+1 s \|/);
    expect(text).toMatch(/in the window: of those/);
  });
});
