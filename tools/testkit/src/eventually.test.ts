import { describe, expect, it } from 'vitest';
import { eventually } from './eventually.js';

describe('eventually', () => {
  it('resolves once the check holds, checking again while it does not', async () => {
    let calls = 0;
    await eventually(() => ++calls === 3, 5000, 'the third call', 1);
    expect(calls).toBe(3);
  });

  it('awaits an async check', async () => {
    let calls = 0;
    await eventually(async () => Promise.resolve(++calls >= 2), 5000, 'the second call', 1);
    expect(calls).toBe(2);
  });

  it('fails with what it waited for once the time is up', async () => {
    await expect(eventually(() => false, 100, 'two dead letters', 10)).rejects.toThrow(
      'timed out after 0.1 s waiting for two dead letters',
    );
  });

  it('fails at once with the error of a check that throws', async () => {
    let calls = 0;
    const check = () => {
      calls++;
      throw new Error('broken check');
    };
    await expect(eventually(check, 5000)).rejects.toThrow('broken check');
    expect(calls).toBe(1);
  });
});
