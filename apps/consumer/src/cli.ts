import { ConfigError, formatSettingsHelp, parseCommandLine } from '@hello-rabbit/runtime/cli';
import { bindingKeyProblems, ExchangeName, isExchangeName, SubscriptionName } from '@hello-rabbit/broker-config/names';
import { Command, Option } from 'commander';
import { CONSUMER_SETTINGS } from './settings-help.generated.js';

export interface ConsumerArgs {
  /**
   * The subscription to consume: the queue `hello` (tutorial 1), `task_queue` (tutorial 2's
   * worker) or `rpc_queue` (tutorial 6's server), or the exchange `logs` (3), `direct_logs`
   * (4) or `topic_logs` (5).
   */
  readonly from: SubscriptionName | ExchangeName;
  /** The binding keys, for `direct_logs` and `topic_logs`. */
  readonly keys: readonly string[];
}

export type ParsedArgs =
  { readonly kind: 'run'; readonly args: ConsumerArgs } | { readonly kind: 'help'; readonly text: string };

/**
 * Parses the command line (without `node` and the script).
 * @throws ConfigError (usage) with commander's one-line explanation.
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const program = new Command('consumer')
    .description(
      `Consumes a queue, printing each message and acking it once handled: 'hello' prints it, ` +
        `'task_queue' works one unit per '.' and prints ' [x] Done', 'rpc_queue' answers fib(n). ` +
        `Or subscribes to an exchange ('logs', 'direct_logs', 'topic_logs') ` +
        `with a queue of its own and prints every line. ` +
        `SIGINT or SIGTERM stops it cleanly.`,
    )
    .addOption(
      new Option('--from <name>', 'the queue or exchange to consume')
        .choices([...Object.values(SubscriptionName), ...Object.values(ExchangeName)])
        .default(SubscriptionName.hello),
    )
    .option(
      '--key <key>',
      "a binding key, repeatable: a severity for 'direct_logs' (--key info --key error), a pattern for 'topic_logs' " +
        "(--key 'kern.*' --key '*.critical'; '*' one word, '#' zero or more)",
      (value: string, previous: readonly string[]) => [...previous, value],
      [] as readonly string[],
    )
    .allowExcessArguments(false)
    .addHelpText('after', `\nSettings (environment, with their defaults):\n${formatSettingsHelp(CONSUMER_SETTINGS)}`);
  const parsed = parseCommandLine(program, argv);
  if (parsed.kind === 'help') return parsed;
  const { from, key: keys } = program.opts<{ from: SubscriptionName | ExchangeName; key: readonly string[] }>();
  if (isExchangeName(from)) {
    const problems = bindingKeyProblems(from, keys);
    if (problems.length > 0) throw new ConfigError(problems.join('; '), problems, 'usage');
  } else if (keys.length > 0) {
    throw new ConfigError(
      `--key is for the exchanges (${Object.values(ExchangeName).join(', ')}); '${from}' is a queue`,
      undefined,
      'usage',
    );
  }
  return { kind: 'run', args: { from, keys } };
}
