#!/usr/bin/env node
// `pnpm --filter @hello-rabbit/broker-config export-definitions [options]`: prints (or
// writes) the contract's queues and exchanges and the apps' least-privilege permissions as
// RabbitMQ definitions, for `rabbitmqctl import_definitions` or `POST /api/definitions`;
// with --producer-to / --consumer-from, only what those commands use.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  consumerCommands,
  exportDefinitions,
  producerCommands,
  type ConsumerCommand,
  type ProducerCommand,
} from './definitions.js';

const USAGE = `Usage: export-definitions [--vhost <name>] [--producer-user <name>] [--consumer-user <name>]
                          [--producer-to <name>]... [--consumer-from <name>]... [--out <file>]

Prints the contract's queues and exchanges and the permissions of the producer's and the
consumer's users as RabbitMQ definitions (JSON), for rabbitmqctl import_definitions or
POST /api/definitions. Users are not included: create them first.

With --producer-to or --consumer-from (each may be repeated), only those commands are
covered: the queues and exchanges they use, and a permission narrowed to exactly them for
each app named (an app not named gets no permission). Without either, the whole contract
and both users.

  --vhost <name>           the vhost (default: /)
  --producer-user <name>   the producer's user (default: producer)
  --consumer-user <name>   the consumer's user (default: consumer)
  --producer-to <name>     a producer command, by what it publishes to:
                             hello, task_queue               producer --to <queue> (hello: the Hello World send)
                             rpc_queue                       producer --rpc <n> (the RPC client)
                             logs, direct_logs, topic_logs   producer --to <exchange>
  --consumer-from <name>   a consumer command, by what it consumes:
                             hello, task_queue, rpc_queue    consumer --from <queue> (rpc_queue: the RPC server)
                             logs, direct_logs, topic_logs   consumer --from <exchange>
  --out <file>             write to this file instead of stdout
  -h, --help               show this help

Example, a Hello World sender alone:
  export-definitions --vhost prod --producer-user sender --producer-to hello
`;

/** The names among `given` that are not in `known`, as one line for that flag; undefined when all are. */
function unknownNames(flag: string, given: readonly string[], known: readonly string[]): string | undefined {
  const unknown = given.filter((name) => !known.includes(name));
  if (unknown.length === 0) return undefined;
  const names = unknown.map((name) => JSON.stringify(name)).join(', ');
  return `--${flag}: unknown ${unknown.length === 1 ? 'name' : 'names'} ${names} (one of: ${known.join(', ')})`;
}

function main(argv: readonly string[]): number {
  // `pnpm <script> -- --flag` passes the `--` on: it is not the end of the options here.
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  let values: {
    vhost?: string;
    'producer-user'?: string;
    'consumer-user'?: string;
    'producer-to'?: string[];
    'consumer-from'?: string[];
    out?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        vhost: { type: 'string' },
        'producer-user': { type: 'string' },
        'consumer-user': { type: 'string' },
        'producer-to': { type: 'string', multiple: true },
        'consumer-from': { type: 'string', multiple: true },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`export-definitions: ${(err as Error).message}\n${USAGE}`);
    return 64;
  }
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  for (const name of ['vhost', 'producer-user', 'consumer-user'] as const) {
    if (values[name] === '') {
      process.stderr.write(`export-definitions: --${name} must not be empty\n`);
      return 64;
    }
  }
  const problem =
    unknownNames('producer-to', values['producer-to'] ?? [], producerCommands) ??
    unknownNames('consumer-from', values['consumer-from'] ?? [], consumerCommands);
  if (problem !== undefined) {
    process.stderr.write(`export-definitions: ${problem}\n`);
    return 64;
  }
  let json: string;
  try {
    json = `${JSON.stringify(
      exportDefinitions({
        vhost: values.vhost,
        producerUser: values['producer-user'],
        consumerUser: values['consumer-user'],
        // Checked above against the contract's names.
        producerTo: values['producer-to'] as ProducerCommand[] | undefined,
        consumerFrom: values['consumer-from'] as ConsumerCommand[] | undefined,
      }),
      null,
      2,
    )}\n`;
  } catch (err) {
    process.stderr.write(`export-definitions: ${(err as Error).message}\n`);
    return 64;
  }
  if (values.out === undefined) {
    process.stdout.write(json);
  } else {
    try {
      writeFileSync(values.out, json);
    } catch (err) {
      process.stderr.write(`export-definitions: cannot write ${values.out}: ${(err as Error).message}\n`);
      return 73;
    }
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
