#!/usr/bin/env node
// `pnpm --filter @hello-rabbit/broker-config export-definitions [options]`: prints (or
// writes) the contract's queues and exchanges and the apps' least-privilege permissions as
// RabbitMQ definitions, for `rabbitmqctl import_definitions` or `POST /api/definitions`.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { exportDefinitions } from './definitions.js';

const USAGE = `Usage: export-definitions [--vhost <name>] [--producer-user <name>] [--consumer-user <name>] [--out <file>]

Prints the contract's queues and exchanges and the permissions of the producer's and the
consumer's users as RabbitMQ definitions (JSON), for rabbitmqctl import_definitions or
POST /api/definitions. Users are not included: create them first.

  --vhost <name>          the vhost (default: /)
  --producer-user <name>  the producer's user (default: producer)
  --consumer-user <name>  the consumer's user (default: consumer)
  --out <file>            write to this file instead of stdout
  -h, --help              show this help
`;

function main(argv: readonly string[]): number {
  // `pnpm <script> -- --flag` passes the `--` on: it is not the end of the options here.
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  let values: { vhost?: string; 'producer-user'?: string; 'consumer-user'?: string; out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        vhost: { type: 'string' },
        'producer-user': { type: 'string' },
        'consumer-user': { type: 'string' },
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
  let json: string;
  try {
    json = `${JSON.stringify(
      exportDefinitions({
        ...(values.vhost === undefined ? {} : { vhost: values.vhost }),
        ...(values['producer-user'] === undefined ? {} : { producerUser: values['producer-user'] }),
        ...(values['consumer-user'] === undefined ? {} : { consumerUser: values['consumer-user'] }),
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
