import { z } from 'zod';
import { DEFAULT_AMQP_URL, parseAmqpUrl } from './amqp-url.js';
import { ConfigError } from './errors.js';

/** An unset or empty variable takes the default. */
const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value);

/** A whole number within bounds, read from an environment string. */
export function intSetting(min: number, max: number, unit: string) {
  return z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .trim()
      .regex(/^\d+$/, `must be a whole number of ${unit} from ${min} to ${max}`)
      .transform(Number)
      .pipe(z.number().int().min(min, `must be at least ${min} ${unit}`).max(max, `must be at most ${max} ${unit}`))
      .optional(),
  );
}

export const amqpUrlSetting = z.preprocess(
  unsetIfEmpty,
  z
    .string()
    .default(DEFAULT_AMQP_URL)
    .transform((value, ctx) => {
      const parsed = parseAmqpUrl(value);
      if (!parsed.ok) {
        ctx.addIssue({ code: 'custom', message: parsed.reason });
        return z.NEVER;
      }
      return parsed.endpoint;
    }),
);

/** A host name or an IP address to listen on. @default 127.0.0.1 */
export const httpHostSetting = z.preprocess(
  (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
  z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9.:%-]+$/, 'must be a host name or an IP address, e.g. 0.0.0.0 or ::')
    .default('127.0.0.1'),
);

/** A TCP port to listen on, 0 for any free one; unset stays unset. */
export const httpPortSetting = z.preprocess(
  (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a port number from 0 to 65535')
    .transform(Number)
    .pipe(z.number().int().max(65_535, 'must be a port number from 0 to 65535'))
    .optional(),
);

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The settings both apps read, with their defaults. */
export const brokerEnvShape = {
  /** The broker. @default amqp://guest:guest@localhost:5672 */
  AMQP_URL: amqpUrlSetting,
  /** TCP connect plus AMQP handshake, in ms. @default 5000 */
  AMQP_CONNECT_TIMEOUT_MS: intSetting(100, 600_000, 'milliseconds').transform((v) => v ?? 5000),
  /** AMQP heartbeat, in seconds (0 turns heartbeats off). @default 10 */
  AMQP_HEARTBEAT_SECONDS: intSetting(0, 600, 'seconds').transform((v) => v ?? 10),
  /** pino level of the diagnostic log on stderr. @default info */
  LOG_LEVEL: z.preprocess(
    (value) => (typeof value === 'string' ? unsetIfEmpty(value.trim().toLowerCase()) : value),
    z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  ),
};

/**
 * Parses the environment with a zod object schema.
 * @throws ConfigError listing every problem as `NAME: what is wrong`.
 */
export function parseEnv<S extends z.ZodObject>(schema: S, source: NodeJS.ProcessEnv): Readonly<z.output<S>> {
  const result = schema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.map(String).join('.') || 'environment'}: ${issue.message}`,
    );
    throw new ConfigError(`invalid settings: ${problems.join('; ')}`, problems);
  }
  return Object.freeze(result.data);
}
