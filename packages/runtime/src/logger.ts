import { pino, stdSerializers, type Logger, type LevelWithSilent } from 'pino';
import { scrubSecret } from './amqp-url.js';

export type { Logger };

export interface LoggerOptions {
  readonly name: string;
  readonly level: LevelWithSilent;
  /** Strings that must never reach the log (the broker password). */
  readonly secrets?: readonly string[];
  /** Where the JSON lines go. @default stderr, so that stdout keeps the tutorial's lines */
  readonly destination?: NodeJS.WritableStream | { write(line: string): unknown };
}

/**
 * The diagnostic log: JSON lines (pino) on stderr. Every line is scrubbed of the given
 * secrets as it is written, whatever a library put in it and under whatever key: the
 * message, an error, any field.
 */
export function createLogger(options: LoggerOptions): Logger {
  const secrets = (options.secrets ?? []).filter((secret) => secret.length > 0);
  const scrub = (text: string) => secrets.reduce(scrubSecret, text);
  const destination = options.destination ?? pino.destination({ fd: 2, sync: true });
  return pino(
    {
      name: options.name,
      level: options.level,
      base: { pid: process.pid },
      serializers: {
        err: (err: Error) => {
          const serialized = stdSerializers.err(err);
          return JSON.parse(scrub(JSON.stringify(serialized))) as typeof serialized;
        },
      },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((arg: unknown) => (typeof arg === 'string' ? scrub(arg) : arg));
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    secrets.length === 0
      ? destination
      : {
          write: (line: string) => destination.write(scrub(line)),
        },
  );
}
