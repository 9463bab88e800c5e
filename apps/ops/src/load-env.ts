import { readFileSync } from 'node:fs';
import { brokerEnvShape, intSetting, LOG_LEVELS, parseEnv, type AmqpEndpoint } from '@hello-rabbit/runtime';
import * as z from 'zod';

/** Where the management HTTP API answers and as whom the tool calls it. */
export interface ManagementSettings {
  /** The API's base URL (scheme, host, port, path prefix), without credentials: safe to print. */
  readonly url: string;
  readonly user: string;
  /** Sent in the Authorization header; never printed or logged. */
  readonly password: string;
  /** Time one API request may take. */
  readonly timeoutMs: number;
}

export interface OpsSettings {
  readonly amqp: AmqpEndpoint;
  readonly connectTimeoutMs: number;
  readonly heartbeatSeconds: number;
  /** Time the broker has to confirm one replayed message. */
  readonly confirmTimeoutMs: number;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly management: ManagementSettings;
}

const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value);
const optionalText = z.preprocess(unsetIfEmpty, z.string().optional());

/** A secret read from a file (a mounted Docker or Kubernetes secret): one trailing newline dropped. */
const secretFile = z.preprocess(
  unsetIfEmpty,
  z
    .string()
    .optional()
    .transform((path, ctx) => {
      if (path === undefined) return undefined;
      try {
        return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        ctx.addIssue({ code: 'custom', message: `cannot read ${path}${typeof code === 'string' ? ` (${code})` : ''}` });
        return z.NEVER;
      }
    }),
);

const managementUrl = z.preprocess(
  unsetIfEmpty,
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not a valid URL (expected http://host:15672)' });
        return z.NEVER;
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        ctx.addIssue({ code: 'custom', message: `must start with http:// or https://, not ${url.protocol}//` });
        return z.NEVER;
      }
      if (url.search !== '' || url.hash !== '') {
        ctx.addIssue({ code: 'custom', message: 'must not have a query or a fragment' });
        return z.NEVER;
      }
      return url;
    }),
);

/**
 * The broker settings ops reads: the apps', but for those of their start (ops declares no
 * topology and compares the queues only when asked, through MANAGEMENT_URL).
 */
const brokerSettings = z.object(brokerEnvShape).omit({ AMQP_TOPOLOGY: true, AMQP_MANAGEMENT_URL: true }).shape;

/**
 * The tool's settings, with their defaults and, on each, its `.meta()`: what `ops --help` and
 * docs/settings.md say (`pnpm settings:generate`; see `brokerEnvShape`).
 */
export const opsEnvShape = {
  ...brokerSettings,
  LOG_LEVEL: z
    .preprocess(
      (value) => (typeof value === 'string' ? unsetIfEmpty(value.trim().toLowerCase()) : value),
      z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('warn'),
    )
    .meta({
      description: `level of the JSON log on stderr: ${LOG_LEVELS.map((level) => `\`${level}\``).join(' ')}`,
      details: "quiet unless asked: the tool's output is for people",
    }),
  PUBLISH_CONFIRM_TIMEOUT_MS: intSetting(100, 600_000, 'milliseconds')
    .transform((v) => v ?? 10_000)
    .meta({ description: 'time the broker has to confirm one replayed message, in ms' }),
  MANAGEMENT_URL: managementUrl.meta({
    description: 'the management API, with its path prefix if it has one (`https://mq.example.com/rabbitmq`)',
    defaultText: '`http://<host of AMQP_URL>:15672`',
    details: 'a user and password in it are taken as its credentials; `NODE_EXTRA_CA_CERTS` adds a CA for https',
  }),
  MANAGEMENT_USER: optionalText.meta({
    description: "the management API's user, set along with `MANAGEMENT_PASSWORD`",
    defaultText: "`MANAGEMENT_URL`'s, else the AMQP login",
    details:
      'the user needs the `management` (or `monitoring`) tag. Unset: the login in `MANAGEMENT_URL`, else the AMQP ' +
      'one (of `AMQP_URL`, `AMQP_URL_FILE` or `AMQP_PASSWORD_FILE`)',
  }),
  MANAGEMENT_PASSWORD: optionalText.meta({
    description: "the management API's password, set along with `MANAGEMENT_USER`",
    defaultText: "`MANAGEMENT_URL`'s, else the AMQP login",
  }),
  MANAGEMENT_USER_FILE: secretFile.meta({
    description: 'a file holding `MANAGEMENT_USER` (a mounted secret), instead of it',
    details: 'one trailing newline is dropped',
  }),
  MANAGEMENT_PASSWORD_FILE: secretFile.meta({
    description: 'a file holding `MANAGEMENT_PASSWORD` (a mounted secret), instead of it',
    details: 'one trailing newline is dropped',
  }),
  MANAGEMENT_TIMEOUT_MS: intSetting(100, 600_000, 'milliseconds')
    .transform((v) => v ?? 10_000)
    .meta({ description: 'time one management API request may take, in ms' }),
};

const schema = z.object(opsEnvShape).superRefine((env, ctx) => {
  for (const name of ['MANAGEMENT_USER', 'MANAGEMENT_PASSWORD'] as const) {
    if (env[name] !== undefined && env[`${name}_FILE`] !== undefined) {
      ctx.addIssue({ code: 'custom', path: [`${name}_FILE`], message: `set either ${name} or ${name}_FILE, not both` });
    }
  }
  const user = env.MANAGEMENT_USER ?? env.MANAGEMENT_USER_FILE;
  const password = env.MANAGEMENT_PASSWORD ?? env.MANAGEMENT_PASSWORD_FILE;
  if ((user === undefined) !== (password === undefined)) {
    const missing = user === undefined ? 'MANAGEMENT_USER' : 'MANAGEMENT_PASSWORD';
    ctx.addIssue({
      code: 'custom',
      path: [missing],
      message:
        `must be set (or ${missing}_FILE) ` +
        `along with ${user === undefined ? 'MANAGEMENT_PASSWORD' : 'MANAGEMENT_USER'}`,
    });
  }
});

/**
 * Reads the tool's settings once, at start. The management API's credentials come as a
 * pair from the first place that has them: MANAGEMENT_USER and MANAGEMENT_PASSWORD (or
 * their _FILE variants), the user and password in MANAGEMENT_URL, then AMQP_URL's.
 * @throws ConfigError naming every bad variable.
 */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Readonly<OpsSettings> {
  const env = parseEnv(schema, source);
  const amqp = env.AMQP_URL;
  // An IPv6 host may come with or without its brackets.
  const host = amqp.host.includes(':') && !amqp.host.startsWith('[') ? `[${amqp.host}]` : amqp.host;
  const url = env.MANAGEMENT_URL ?? new URL(`http://${host}:15672`);
  const explicitUser = env.MANAGEMENT_USER ?? env.MANAGEMENT_USER_FILE;
  const explicitPassword = env.MANAGEMENT_PASSWORD ?? env.MANAGEMENT_PASSWORD_FILE;
  let user = amqp.user;
  let password = amqp.password;
  if (explicitUser !== undefined && explicitPassword !== undefined) {
    user = explicitUser;
    password = explicitPassword;
  } else if (url.username !== '') {
    user = decodeURIComponent(url.username);
    password = decodeURIComponent(url.password);
  }
  const base = new URL(url.toString());
  base.username = '';
  base.password = '';
  return Object.freeze({
    amqp,
    connectTimeoutMs: env.AMQP_CONNECT_TIMEOUT_MS,
    heartbeatSeconds: env.AMQP_HEARTBEAT_SECONDS,
    confirmTimeoutMs: env.PUBLISH_CONFIRM_TIMEOUT_MS,
    logLevel: env.LOG_LEVEL,
    management: Object.freeze({
      url: base.toString().replace(/\/+$/, ''),
      user,
      password,
      timeoutMs: env.MANAGEMENT_TIMEOUT_MS,
    }),
  });
}
