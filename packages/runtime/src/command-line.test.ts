import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { describeFatal, parseCommandLine } from './command-line.js';
import { ConfigError } from './errors.js';
import { ExitCode } from './exit-codes.js';

describe('parseCommandLine', () => {
  const program = () => new Command('tool').option('--n <n>', 'a number');

  it('parses, leaving the values on the program', () => {
    const p = program();
    expect(parseCommandLine(p, ['--n', '3'])).toEqual({ kind: 'run' });
    expect(p.opts()).toEqual({ n: '3' });
  });

  it('returns the help text instead of printing it and exiting', () => {
    const parsed = parseCommandLine(program(), ['--help']);
    expect(parsed.kind).toBe('help');
    if (parsed.kind === 'help') expect(parsed.text).toContain('Usage: tool [options]');
  });

  it('turns a mistake into a one-line usage error', () => {
    expect(() => parseCommandLine(program(), ['--nope'])).toThrow(ConfigError);
    try {
      parseCommandLine(program(), ['--nope']);
    } catch (err) {
      expect((err as ConfigError).message).toBe("unknown option '--nope'");
      expect((err as ConfigError).exitCode).toBe(ExitCode.usage);
    }
  });
});

/** An error that says its own exit code, as the transport's BrokerError does. */
class Refused extends Error {
  readonly exitCode = ExitCode.noPermission;
}

/** An error whose exitCode is not one of ExitCode's: reported as unexpected. */
class Odd extends Error {
  readonly exitCode = 3;
}

describe('describeFatal', () => {
  it.each([
    [new ConfigError('bad', ['A: bad', 'B: worse']), ['A: bad', 'B: worse'], ExitCode.config],
    [new ConfigError('unknown option', undefined, 'usage'), ['unknown option'], ExitCode.usage],
    [new Refused('refused'), ['refused'], ExitCode.noPermission],
    [new Odd('odd'), ['unexpected error: odd'], ExitCode.software],
    [new Error('surprise'), ['unexpected error: surprise'], ExitCode.software],
  ])('reports %s', (error, lines, exitCode) => {
    expect(describeFatal(error)).toEqual({ lines, exitCode });
  });

  it("reports each problem of a ConfigError from another copy of the module (a command's bundle)", () => {
    class ConfigError extends Error {
      override readonly name = 'ConfigError';
      readonly exitCode = ExitCode.config;
      readonly problems = ['A: bad', 'B: worse'];
    }
    expect(describeFatal(new ConfigError('A: bad; B: worse'))).toEqual({
      lines: ['A: bad', 'B: worse'],
      exitCode: ExitCode.config,
    });
  });
});
