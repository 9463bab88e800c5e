import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['45s', 45_000],
    ['90m', 5_400_000],
    ['12h', 43_200_000],
    ['7d', 604_800_000],
    ['2w', 1_209_600_000],
    ['1d12h', 129_600_000],
    [' 7D ', 604_800_000],
  ])('reads %s', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });

  it.each([['7'], ['d'], ['7 d'], ['-7d'], ['1.5h'], ['7days'], ['']])('refuses %j', (text) => {
    expect(parseDuration(text)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/duration such as 7d/) as unknown,
    });
  });

  it('refuses zero and absurd lengths', () => {
    expect(parseDuration('0d')).toEqual({ ok: false, reason: 'it must be longer than zero' });
    expect(parseDuration('3651d')).toEqual({ ok: false, reason: 'it must be at most 3650d' });
  });
});
