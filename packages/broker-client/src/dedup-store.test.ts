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
