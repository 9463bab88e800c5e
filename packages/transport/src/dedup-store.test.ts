import { describe, expect, it } from 'vitest';
import { MemoryDedupStore } from './dedup-store.js';

describe('MemoryDedupStore', () => {
  it('remembers a handled messageId', () => {
    const store = new MemoryDedupStore();
    expect(store.has('a')).toBe(false);
    store.add('a');
    expect(store.has('a')).toBe(true);
  });

  it('forgets the oldest ids beyond its size: memory stays bounded', () => {
    const store = new MemoryDedupStore(3);
    for (const id of ['a', 'b', 'c', 'd']) store.add(id);
    expect(store.size).toBe(3);
    expect(store.has('a')).toBe(false);
    expect(store.has('d')).toBe(true);
  });

  it('forgets an id after its time to live', () => {
    let now = 0;
    const store = new MemoryDedupStore(10, 1000, () => now);
    store.add('a');
    now = 999;
    expect(store.has('a')).toBe(true);
    now = 1001;
    expect(store.has('a')).toBe(false);
  });
});

describe('MemoryDedupStore, long after it filled up', () => {
  it('keeps exactly the last maxEntries distinct ids through many rounds of eviction', () => {
    const store = new MemoryDedupStore(1000);
    for (let i = 0; i < 25_000; i++) store.add(`id-${i}`);
    expect(store.size).toBe(1000);
    expect(store.has('id-23999')).toBe(false);
    expect(store.has('id-24000')).toBe(true);
    expect(store.has('id-24999')).toBe(true);
  });

  it('remembers the ids of the last maxEntries adds; an id added again lives from its latest add', () => {
    const store = new MemoryDedupStore(3);
    store.add('a');
    store.add('b');
    store.add('a'); // again: its first add no longer counts
    store.add('c');
    expect([store.has('a'), store.has('b'), store.has('c')]).toEqual([true, true, true]);
    store.add('d'); // 'b' leaves
    expect([store.has('a'), store.has('b'), store.has('c'), store.has('d')]).toEqual([true, false, true, true]);
    store.add('e'); // 'a' leaves with its latest add
    expect([store.has('a'), store.has('c'), store.has('d'), store.has('e')]).toEqual([false, true, true, true]);
    expect(store.size).toBe(3);
  });

  it('the time to live counts from the latest add', () => {
    let now = 0;
    const store = new MemoryDedupStore(10, 1000, () => now);
    store.add('a');
    now = 900;
    store.add('a');
    now = 1500;
    expect(store.has('a')).toBe(true);
    now = 1901;
    expect(store.has('a')).toBe(false);
  });

  it('refuses a size that cannot bound anything', () => {
    expect(() => new MemoryDedupStore(0)).toThrow(RangeError);
  });
});

describe('MemoryDedupStore claims', () => {
  it('grants one claim at a time per scope and id; a claim done makes every later one done, with its answer', () => {
    let now = 0;
    const store = new MemoryDedupStore(10, 60_000, () => now);
    const first = store.claim('consume:q', 'a', 1000);
    expect(first.state).toBe('claimed');
    expect(store.claim('consume:q', 'a', 1000)).toEqual({ state: 'busy', retryInMs: 1000 });
    expect(store.claim('consume:other', 'a', 1000).state).toBe('claimed');
    now = 400;
    expect(store.claim('consume:q', 'a', 1000)).toEqual({ state: 'busy', retryInMs: 600 });
    if (first.state !== 'claimed') throw new Error('unreachable');
    store.done('consume:q', 'a', first.token, 'kept');
    expect(store.claim('consume:q', 'a', 1000)).toEqual({ state: 'done', answer: 'kept' });
  });

  it('frees a claim released by its holder only, and one whose lease ran out', () => {
    let now = 0;
    const store = new MemoryDedupStore(10, 60_000, () => now);
    const claim = store.claim('s', 'a', 1000);
    if (claim.state !== 'claimed') throw new Error('unreachable');
    store.release('s', 'a', 'another token');
    expect(store.claim('s', 'a', 1000).state).toBe('busy');
    expect(store.renew('s', 'a', claim.token, 5000)).toBe(true);
    now = 4000;
    expect(store.claim('s', 'a', 1000).state).toBe('busy');
    store.release('s', 'a', claim.token);
    const next = store.claim('s', 'a', 1000);
    expect(next.state).toBe('claimed');
    now = 5001;
    expect(store.claim('s', 'a', 1000).state).toBe('claimed');
    if (next.state === 'claimed') expect(store.renew('s', 'a', next.token, 1000)).toBe(false);
  });
});
