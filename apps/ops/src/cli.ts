import { ConfigError, formatSettingsHelp, parseCommandLine } from '@hello-rabbit/runtime/cli';
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { DEAD_LETTER_QUEUES } from './dead-letter.js';
import type { DlqListArgs } from './dlq-list.js';
import type { DlqPurgeArgs } from './dlq-purge.js';
import type { DlqReplayArgs } from './dlq-replay.js';
import type { DlqShowArgs } from './dlq-show.js';
import { parseDuration } from './duration.js';
import { OPS_SETTINGS } from './settings-help.generated.js';
import type { TopologyCheckArgs } from './topology-check.js';

export const PROGRAM = 'ops';
export const DEFAULT_RATE = 10;
export const MAX_RATE = 10_000;
export const DEFAULT_MAX_BYTES = 4096;

export type OpsCommand =
  | { readonly name: 'dlq list'; readonly args: DlqListArgs }
  | { readonly name: 'dlq show'; readonly args: DlqShowArgs }
  | { readonly name: 'dlq replay'; readonly args: DlqReplayArgs }
  | { readonly name: 'dlq purge'; readonly args: DlqPurgeArgs }
  | { readonly name: 'topology check'; readonly args: TopologyCheckArgs };

export type ParsedArgs =
  | { readonly kind: 'run'; readonly command: OpsCommand }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version' };

function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`it must be a whole number from ${min} to ${max}.`);
    }
    return Number(value);
  };
}

function rate(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n < 0.1 || n > MAX_RATE) {
    throw new InvalidArgumentError(`it must be a number of messages per second from 0.1 to ${MAX_RATE}.`);
  }
  return n;
}

function duration(value: string): { text: string; ms: number } {
  const parsed = parseDuration(value);
  if (!parsed.ok) throw new InvalidArgumentError(`${parsed.reason}.`);
  return { text: value.trim(), ms: parsed.ms };
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

const deadLetterQueue = () => new Argument('<queue>', 'the dead-letter queue').choices([...DEAD_LETTER_QUEUES]);

const jsonOption = () => new Option('--json', 'print the result as JSON, for scripts');

interface Leaf {
  readonly summary: string;
  readonly build: () => Command;
  readonly read: (command: Command) => OpsCommand;
}

/** Every command, by its words. */
const LEAVES: Record<OpsCommand['name'], Leaf> = {
  'dlq list': {
    summary: 'count the dead letters of each failure reason (moves nothing)',
    build: () =>
      new Command(`${PROGRAM} dlq list`)
        .description(
          'Counts the dead letters of each failure reason, with the oldest and newest and a few ids. ' +
            'Every message goes back where it was, in order.',
        )
        .addArgument(
          new Argument('[queue...]', 'dead-letter queues (default: all of the contract)').choices([
            ...DEAD_LETTER_QUEUES,
          ]),
        )
        .addOption(jsonOption()),
    read: (command) => {
      const named = command.processedArgs[0] as string[] | undefined;
      const { json } = command.opts<{ json?: boolean }>();
      const queues = named === undefined || named.length === 0 ? [...DEAD_LETTER_QUEUES] : [...new Set(named)];
      return {
        name: 'dlq list',
        args: { queues, named: named !== undefined && named.length > 0, json: json === true },
      };
    },
  },
  'dlq show': {
    summary: 'show one dead letter by its message id: headers, properties, body',
    build: () =>
      new Command(`${PROGRAM} dlq show`)
        .description('Shows the dead letter(s) with this message id: properties, headers and body. Moves nothing.')
        .addArgument(deadLetterQueue())
        .argument('<message-id>', 'the message-id property of the message')
        .addOption(
          new Option('--max-bytes <n>', 'show at most this many bytes of the body')
            .argParser(wholeNumber(1, 64 * 1024 * 1024))
            .default(DEFAULT_MAX_BYTES),
        )
        .addOption(jsonOption()),
    read: (command) => {
      const [queue, messageId] = command.processedArgs as [string, string];
      const { maxBytes, json } = command.opts<{ maxBytes: number; json?: boolean }>();
      return { name: 'dlq show', args: { queue, messageId, maxBytes, json: json === true } };
    },
  },
  'dlq replay': {
    summary: 'move dead letters back to their original queue, at a limited rate',
    build: () =>
      new Command(`${PROGRAM} dlq replay`)
        .usage('<queue> (--all | --id <message-id>... | --reason <text>) [options]')
        .description(
          'Moves dead letters back to their original queue (x-original-queue, else the queue name without .dlq), ' +
            'oldest first. Each copy keeps its message id, body, content type and application headers, ' +
            'loses the dead-letter headers and gets x-replayed-at, x-replay-count and x-replayed-from; ' +
            'the dead letter is removed only once the broker confirmed the copy. ' +
            'Say which: --all, --id or --reason (--id and --reason together: both must match).',
        )
        .addArgument(deadLetterQueue())
        .addOption(new Option('--all', 'every dead letter of the queue').conflicts(['id', 'reason']))
        .addOption(
          new Option('--id <message-id>', 'the dead letter with this message id (repeat for several)').argParser(
            collect,
          ),
        )
        .addOption(new Option('--reason <text>', 'the dead letters whose reason contains this text (case-insensitive)'))
        .addOption(new Option('--limit <n>', 'at most this many').argParser(wholeNumber(1, 100_000_000)))
        .addOption(
          new Option('--rate <per-second>', 'publish at most this many messages a second')
            .argParser(rate)
            .default(DEFAULT_RATE),
        )
        .addOption(new Option('--dry-run', 'print what would be replayed; move nothing'))
        .addOption(jsonOption()),
    read: (command) => {
      const [queue] = command.processedArgs as [string];
      const o = command.opts<{
        all?: boolean;
        id?: string[];
        reason?: string;
        limit?: number;
        rate: number;
        dryRun?: boolean;
        json?: boolean;
      }>();
      const ids = o.id ?? [];
      if (o.all !== true && ids.length === 0 && o.reason === undefined) {
        throw new ConfigError(
          'say which dead letters to replay: --all, --id <message-id> or --reason <text>',
          undefined,
          'usage',
        );
      }
      if (o.reason?.trim() === '')
        throw new ConfigError("option '--reason <text>' must not be empty", undefined, 'usage');
      return {
        name: 'dlq replay',
        args: {
          queue,
          select: { all: o.all === true, ids, reason: o.reason },
          limit: o.limit,
          rate: o.rate,
          dryRun: o.dryRun === true,
          json: o.json === true,
        },
      };
    },
  },
  'dlq purge': {
    summary: 'delete the dead letters older than a duration',
    build: () =>
      new Command(`${PROGRAM} dlq purge`)
        .usage('<queue> --older-than <duration> [options]')
        .description(
          'Deletes the dead letters dead-lettered more than --older-than ago (by their x-dead-lettered-at header); ' +
            'newer ones and those without a date stay, in order.',
        )
        .addArgument(deadLetterQueue())
        .addOption(
          new Option('--older-than <duration>', 'e.g. 7d, 12h, 90m, 2w, 1d12h')
            .argParser(duration)
            .makeOptionMandatory(),
        )
        .addOption(new Option('--reason <text>', 'only those whose reason contains this text (case-insensitive)'))
        .addOption(new Option('--dry-run', 'print what would be deleted; delete nothing'))
        .addOption(jsonOption()),
    read: (command) => {
      const [queue] = command.processedArgs as [string];
      const o = command.opts<{
        olderThan: { text: string; ms: number };
        reason?: string;
        dryRun?: boolean;
        json?: boolean;
      }>();
      if (o.reason?.trim() === '')
        throw new ConfigError("option '--reason <text>' must not be empty", undefined, 'usage');
      return {
        name: 'dlq purge',
        args: {
          queue,
          olderThanMs: o.olderThan.ms,
          olderThan: o.olderThan.text,
          reason: o.reason,
          dryRun: o.dryRun === true,
          json: o.json === true,
        },
      };
    },
  },
  'topology check': {
    summary: "compare the broker's queues, exchanges and bindings with the contract",
    build: () =>
      new Command(`${PROGRAM} topology check`)
        .description(
          "Compares the vhost's queues, exchanges and bindings (management API) with what the contract declares. " +
            "Exit 0 in sync, 1 on drift: something missing, or a property or argument that would fail the apps' " +
            'declare (406). Queues the contract lets the apps adopt that differ, and objects the contract does not ' +
            'know, are reported, and are drift only with --strict.',
        )
        .addOption(new Option('--strict', 'adopted queues that differ and unknown extras are drift too'))
        .addOption(jsonOption()),
    read: (command) => {
      const { strict, json } = command.opts<{ strict?: boolean; json?: boolean }>();
      return { name: 'topology check', args: { strict: strict === true, json: json === true } };
    },
  },
};

const GROUPS = [...new Set(Object.keys(LEAVES).map((name) => name.split(' ')[0]))];
const isHelp = (word: string | undefined) => word === '-h' || word === '--help';
const usage = (message: string) => new ConfigError(message, undefined, 'usage');

/** The overview `ops --help` prints, with the settings (or `ops dlq --help`, for one group, without). */
export function overview(group?: string): string {
  const leaves = Object.entries(LEAVES).filter(([name]) => group === undefined || name.startsWith(`${group} `));
  const lines = leaves.map(([name, leaf]) => {
    const usageText = leaf
      .build()
      .usage()
      .replace(/^\[options\] ?| ?\[options\]$/g, '');
    return [`${name} ${usageText}`.trim(), leaf.summary] as const;
  });
  return [
    `Usage: ${PROGRAM} ${group ?? '<command>'}${group === undefined ? '' : ' <command>'} [options]`,
    '',
    "The operators' tool: dead letters and topology drift, for the broker and vhost of AMQP_URL.",
    '',
    'Commands:',
    ...lines.flatMap(([left, summary]) => [`  ${left}`, `      ${summary}`]),
    '',
    'Options:',
    '  -V, --version  print the version',
    '  -h, --help     show this help',
    '',
    `Run '${PROGRAM} <command> --help' for a command's options.`,
    ...(group === undefined
      ? ['', 'Settings (environment, with their defaults):', formatSettingsHelp(OPS_SETTINGS)]
      : []),
    '',
  ].join('\n');
}

/**
 * Parses the command line (without `node` and the script): the command's words, then its
 * arguments and options. A leading `--` (as `pnpm start -- ...` passes it) is dropped.
 * @throws ConfigError (usage) with a one-line explanation.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const words = argv[0] === '--' ? argv.slice(1) : [...argv];
  const [first, second] = words;
  if (first === undefined || isHelp(first)) return { kind: 'help', text: overview() };
  if (first === '-V' || first === '--version') return { kind: 'version' };
  if (first === 'help') {
    const rest = words.slice(1);
    if (rest.length === 0) return { kind: 'help', text: overview() };
    return parseArgs([...rest, '--help']);
  }
  if (first.startsWith('-')) throw usage(`unknown option '${first}' (see '${PROGRAM} --help')`);
  if (!GROUPS.includes(first)) throw usage(`unknown command '${first}' (see '${PROGRAM} --help')`);
  if (second === undefined || isHelp(second)) {
    if (second === undefined) throw usage(`'${PROGRAM} ${first}' needs a command (see '${PROGRAM} ${first} --help')`);
    return { kind: 'help', text: overview(first) };
  }
  const name = `${first} ${second}`;
  const leaf = (LEAVES as Partial<Record<string, Leaf>>)[name];
  if (leaf === undefined) throw usage(`unknown command '${name}' (see '${PROGRAM} ${first} --help')`);
  const command = leaf.build();
  const parsed = parseCommandLine(command, words.slice(2));
  if (parsed.kind === 'help') return parsed;
  return { kind: 'run', command: leaf.read(command) };
}
