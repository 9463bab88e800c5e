import { describe, expect, it } from 'vitest';
import { parsePeakRss, parseProcStat, parseTimeOutput } from './startup-figures.js';

describe('startup figures', () => {
  it("reads GNU time's wall, user, system seconds and max RSS (KiB) into seconds and bytes", () => {
    expect(parseTimeOutput('0.21 0.15 0.03 51200\n')).toEqual({
      wallSeconds: 0.21,
      userSeconds: 0.15,
      sysSeconds: 0.03,
      maxRssBytes: 51200 * 1024,
    });
  });

  it('when the program failed, reads the figures after the line GNU time adds', () => {
    expect(parseTimeOutput('Command exited with non-zero status 1\n1.02 0.40 0.05 60000\n')).toMatchObject({
      wallSeconds: 1.02,
      maxRssBytes: 60000 * 1024,
    });
    expect(parseTimeOutput('Command terminated by signal 9\n')).toBeUndefined();
    expect(parseTimeOutput('')).toBeUndefined();
  });

  it('reads user and system ticks from /proc/<pid>/stat, even with spaces and parentheses in the name', () => {
    const stat = '4242 (node (x) y) S 1 4242 4242 0 -1 4194304 1000 0 0 0 37 9 0 0 20 0 11 0 123 456 789';
    expect(parseProcStat(stat)).toEqual({ userTicks: 37, sysTicks: 9 });
    expect(parseProcStat('garbage')).toBeUndefined();
  });

  it('reads the peak resident set (VmHWM) from /proc/<pid>/status', () => {
    expect(parsePeakRss('Name:\tnode\nVmPeak:\t  900000 kB\nVmHWM:\t   61234 kB\nVmRSS:\t   60000 kB\n')).toBe(
      61234 * 1024,
    );
    expect(parsePeakRss('Name:\tnode\n')).toBeUndefined();
  });
});
