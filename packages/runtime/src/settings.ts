import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import * as z from 'zod';
import { parseRedisUrl } from './redis-url.js';
import {
  DEFAULT_AMQP_URL,
  parseAmqpUrl,
  parseNodeList,
  settingFile,
  withPassword,
  type AmqpEndpoint,
  type BrokerNode,
  type EndpointTls,
  type SettingFile,
} from './amqp-url.js';
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

/**
 * How the apps treat the contract's topology at start:
 * - `declare`: declare every queue (the user needs configure permission on them);
 * - `check`: declare nothing, only check passively that every queue exists (a
 *   least-privilege user with no configure permission at all).
 */
export const TOPOLOGY_MODES = ['declare', 'check'] as const;
export type TopologyMode = (typeof TOPOLOGY_MODES)[number];

/**
 * In which order the nodes of AMQP_HOSTS are tried:
 * - `random`: shuffled once at start, so that many instances with the same settings spread
 *   over the nodes;
 * - `fixed`: as listed, the first one first.
 */
export const HOST_ORDERS = ['random', 'fixed'] as const;
export type HostOrder = (typeof HOST_ORDERS)[number];

const blankIsUnset = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

/** Why a file cannot be read, in a few words (never its contents). */
function unreadable(path: string, err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const why =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'it is a directory'
          : typeof code === 'string'
            ? code
            : 'unreadable';
  return `cannot read ${path}: ${why}`;
}

/**
 * A path to a file that is read once, when the settings are read; `check` says what is
 * wrong with its contents, if anything. Unset stays unset.
 */
export function fileSetting(check: (contents: Buffer) => string | undefined = () => undefined) {
  return z.preprocess(
    blankIsUnset,
    z
      .string()
      .optional()
      .transform((path, ctx): SettingFile | undefined => {
        if (path === undefined) return undefined;
        let contents: Buffer;
        try {
          contents = readFileSync(path);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: unreadable(path, err) });
          return z.NEVER;
        }
        const problem = check(contents);
        if (problem !== undefined) {
          ctx.addIssue({ code: 'custom', message: `${path} ${problem}` });
          return z.NEVER;
        }
        return settingFile(path, contents);
      }),
  );
}

const pemCertificate = (contents: Buffer) => {
  try {
    new X509Certificate(contents);
    return undefined;
  } catch {
    return 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)';
  }
};

const pemPrivateKey = (contents: Buffer) => {
  try {
    createPrivateKey(contents);
    return undefined;
  } catch (err) {
    return (err as { code?: unknown }).code === 'ERR_MISSING_PASSPHRASE'
      ? 'holds an encrypted private key: give the key unencrypted (protect the file instead)'
      : 'holds no PEM private key (-----BEGIN PRIVATE KEY-----)';
  }
};

/** A host name the broker's certificate must carry (not an IP address: SNI takes names only). */
const serverNameSetting = z.preprocess(
  blankIsUnset,
  z
    .string()
    .trim()
    .regex(
      /^[A-Za-z0-9*]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/,
      'must be a host name, e.g. broker.internal',
    )
    .refine(
      (name) => isIP(name) === 0,
      'must be a host name, not an IP address (an IP is checked against the certificate as it is)',
    )
    .optional(),
);

/**
 * The settings every app reads, with their defaults.
 *
 * Every setting of every app is documented on its schema, with `.meta()` (the last call, as
 * a `.transform()` after it makes a new schema without it): `description`, a line for
 * `--help`; `details`, more for docs/settings.md only; `defaultText`, the default as shown,
 * only where the one applied is not a plain value (unset, an object, or computed at run
 * time). Backticks mark code in docs/settings.md and are dropped in `--help`. `pnpm
 * settings:generate` writes the apps' `--help` lists and docs/settings.md from them.
 */
export const brokerEnvShape = {
  AMQP_URL: amqpUrlSetting.meta({
    description: 'the broker, credentials and vhost (`amqps://` for TLS)',
    defaultText: `\`${DEFAULT_AMQP_URL}\``,
    details:
      '`amqp://user:password@host:port/vhost`, the password %-encoded, `%2F` for a vhost with `/`; the password is ' +
      'never printed or logged',
  }),
  AMQP_URL_FILE: fileSetting().meta({
    description: 'a file holding the URL (a mounted secret), instead of `AMQP_URL`',
  }),
  AMQP_PASSWORD_FILE: fileSetting((contents) =>
    contents.toString('utf8').replace(/\r?\n$/, '') === '' ? 'is empty' : undefined,
  ).meta({
    description: 'a file holding the password, as it is, for a URL that names the user only',
    details: 'one trailing newline is dropped',
  }),
  AMQP_TLS_CA_FILE: fileSetting(pemCertificate).meta({
    description: "PEM CA certificate(s) that sign the broker's certificate (`amqps://` only)",
    defaultText: "unset: Node's trust store",
  }),
  AMQP_TLS_CERT_FILE: fileSetting(pemCertificate).meta({
    description: 'PEM client certificate, for a broker that asks for one (mutual TLS)',
    details: 'with `AMQP_TLS_KEY_FILE`',
  }),
  AMQP_TLS_KEY_FILE: fileSetting(pemPrivateKey).meta({
    description: 'PEM private key of `AMQP_TLS_CERT_FILE`, unencrypted',
    details: 'an encrypted key is refused: protect the file instead',
  }),
  AMQP_TLS_SERVERNAME: serverNameSetting.meta({
    description: "the name the broker's certificate must carry, when the URL reaches it by another (say, an IP)",
    defaultText: "unset: the URL's host",
    details: 'a host name: SNI takes names only',
  }),
  AMQP_HOSTS: z.preprocess(blankIsUnset, z.string().optional()).meta({
    description: 'the nodes of a cluster, `host:port,host:port,...`: on a lost connection, the next that answers',
    defaultText: "unset: the URL's host",
    details: 'the URL still gives the protocol, login and vhost',
  }),
  AMQP_HOST_ORDER: z
    .preprocess(
      (value) => (typeof value === 'string' ? blankIsUnset(value.trim().toLowerCase()) : value),
      z.enum(HOST_ORDERS, { error: `must be one of ${HOST_ORDERS.join(', ')}` }).default('random'),
    )
    .meta({
      description: '`random` (spread instances over the nodes) or `fixed` (as listed)',
      details:
        '`random` shuffles the nodes of `AMQP_HOSTS` once at start, so that many instances with the same settings ' +
        'spread over them',
    }),
  AMQP_MANAGEMENT_URL: z
    .preprocess(
      blankIsUnset,
      z
        .string()
        .trim()
        .refine((value) => /^https?:\/\/[^/?#@]+(\/[^?#]*)?$/.test(value) && URL.canParse(value), {
          error: 'must be the management API as http(s)://host:port, without a login (e.g. http://broker:15672)',
        })
        .optional(),
    )
    .meta({
      description:
        "the management API (`http://broker:15672`): compare each queue's type and arguments with the contract at " +
        'start',
      defaultText: 'unset: not compared',
      details:
        'called with the AMQP login, whose user then needs the `management` tag; a difference the contract does not ' +
        'allow stops the start (exit 78). Without it, `AMQP_TOPOLOGY=check` can only tell that the queues exist',
    }),
  AMQP_TOPOLOGY: z
    .preprocess(
      (value) => (typeof value === 'string' ? blankIsUnset(value.trim().toLowerCase()) : value),
      z.enum(TOPOLOGY_MODES, { error: `must be one of ${TOPOLOGY_MODES.join(', ')}` }).default('declare'),
    )
    .meta({
      description: "`declare` the contract's queues at start, or only `check` that they exist",
      details: '`check` needs no configure permission: for a least-privilege user',
    }),
  AMQP_CONNECT_TIMEOUT_MS: intSetting(100, 600_000, 'milliseconds')
    .transform((v) => v ?? 5000)
    .meta({
      description: 'TCP connect plus AMQP handshake, in ms',
      details: 'a broker that does not answer in time is an error, not a hang',
    }),
  AMQP_HEARTBEAT_SECONDS: intSetting(0, 600, 'seconds')
    .transform((v) => v ?? 10)
    .meta({
      description: 'AMQP heartbeat, in seconds (`0`: off)',
      details: 'a dead connection is noticed after about two',
    }),
  LOG_LEVEL: z
    .preprocess(
      (value) => (typeof value === 'string' ? unsetIfEmpty(value.trim().toLowerCase()) : value),
      z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
    )
    .meta({
      description: `level of the JSON log (pino) on stderr: ${LOG_LEVELS.map((level) => `\`${level}\``).join(' ')}`,
    }),
};

/** The broker connection settings, as parsed one by one (before `combineConnection`). */
interface ConnectionSettings {
  readonly AMQP_URL: AmqpEndpoint;
  readonly AMQP_URL_FILE?: SettingFile | undefined;
  readonly AMQP_PASSWORD_FILE?: SettingFile | undefined;
  readonly AMQP_TLS_CA_FILE?: SettingFile | undefined;
  readonly AMQP_TLS_CERT_FILE?: SettingFile | undefined;
  readonly AMQP_TLS_KEY_FILE?: SettingFile | undefined;
  readonly AMQP_TLS_SERVERNAME?: string | undefined;
  readonly AMQP_HOSTS?: string | undefined;
  readonly AMQP_HOST_ORDER?: HostOrder | undefined;
}

const connectionShape = {
  AMQP_URL: brokerEnvShape.AMQP_URL,
  AMQP_URL_FILE: brokerEnvShape.AMQP_URL_FILE,
  AMQP_PASSWORD_FILE: brokerEnvShape.AMQP_PASSWORD_FILE,
  AMQP_TLS_CA_FILE: brokerEnvShape.AMQP_TLS_CA_FILE,
  AMQP_TLS_CERT_FILE: brokerEnvShape.AMQP_TLS_CERT_FILE,
  AMQP_TLS_KEY_FILE: brokerEnvShape.AMQP_TLS_KEY_FILE,
  AMQP_TLS_SERVERNAME: brokerEnvShape.AMQP_TLS_SERVERNAME,
  AMQP_HOSTS: brokerEnvShape.AMQP_HOSTS,
  AMQP_HOST_ORDER: brokerEnvShape.AMQP_HOST_ORDER,
};

const TLS_SETTINGS = ['AMQP_TLS_CA_FILE', 'AMQP_TLS_CERT_FILE', 'AMQP_TLS_KEY_FILE', 'AMQP_TLS_SERVERNAME'] as const;

/**
 * Puts the connection settings together into one endpoint: the URL (from AMQP_URL or
 * AMQP_URL_FILE), its password (from the URL or AMQP_PASSWORD_FILE) and its TLS, and
 * checks that they agree.
 */
function combineConnection(
  settings: ConnectionSettings,
  source: NodeJS.ProcessEnv,
): { endpoint: AmqpEndpoint; problems: string[] } | { endpoint?: undefined; problems: string[] } {
  const problems: string[] = [];
  let endpoint = settings.AMQP_URL;

  const urlFile = settings.AMQP_URL_FILE;
  if (urlFile !== undefined) {
    if (blankIsUnset(source.AMQP_URL) !== undefined) {
      problems.push('AMQP_URL_FILE: set either AMQP_URL or AMQP_URL_FILE, not both');
    } else {
      const parsed = parseAmqpUrl(urlFile.contents.toString('utf8').trim());
      if (parsed.ok) endpoint = parsed.endpoint;
      else problems.push(`AMQP_URL_FILE: the URL in ${urlFile.path} ${parsed.reason}`);
    }
  }
  const urlName = urlFile === undefined ? 'AMQP_URL' : 'the URL in AMQP_URL_FILE';

  const passwordFile = settings.AMQP_PASSWORD_FILE;
  if (passwordFile !== undefined && problems.length === 0) {
    if (endpoint.user === '') {
      problems.push(`AMQP_PASSWORD_FILE: ${urlName} names no user (write amqps://user@host/vhost)`);
    } else if (endpoint.password !== '') {
      problems.push(`AMQP_PASSWORD_FILE: ${urlName} has a password too; give it in one place`);
    } else {
      endpoint = withPassword(endpoint, passwordFile.contents.toString('utf8').replace(/\r?\n$/, ''));
    }
  }

  const set = TLS_SETTINGS.filter((name) => settings[name] !== undefined);
  if (set.length > 0 && endpoint.protocol !== 'amqps') {
    for (const name of set)
      problems.push(`${name}: needs an amqps:// broker URL (${urlName} is amqp://, not encrypted)`);
  }
  const { AMQP_TLS_CERT_FILE: cert, AMQP_TLS_KEY_FILE: key } = settings;
  if (cert !== undefined && key === undefined)
    problems.push('AMQP_TLS_KEY_FILE: must be set along with AMQP_TLS_CERT_FILE');
  if (key !== undefined && cert === undefined)
    problems.push('AMQP_TLS_CERT_FILE: must be set along with AMQP_TLS_KEY_FILE');
  if (
    cert !== undefined &&
    key !== undefined &&
    !new X509Certificate(cert.contents).checkPrivateKey(createPrivateKey(key.contents))
  ) {
    problems.push(`AMQP_TLS_KEY_FILE: ${key.path} is not the private key of the certificate in ${cert.path}`);
  }
  let nodes: BrokerNode[] | undefined;
  if (settings.AMQP_HOSTS !== undefined) {
    const parsed = parseNodeList(settings.AMQP_HOSTS, endpoint.port);
    if (parsed.ok) nodes = settings.AMQP_HOST_ORDER === 'fixed' ? parsed.nodes : shuffled(parsed.nodes);
    else problems.push(`AMQP_HOSTS: ${parsed.reason}`);
  }
  if (problems.length > 0) return { problems };

  const tls: EndpointTls = {
    ca: settings.AMQP_TLS_CA_FILE,
    cert,
    key,
    servername: settings.AMQP_TLS_SERVERNAME,
  };
  return {
    endpoint: { ...endpoint, ...(set.length > 0 ? { tls } : {}), nodes },
    problems,
  };
}

/** A copy in random order (Fisher-Yates). */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const describeIssues = (issues: readonly z.core.$ZodIssue[]) =>
  issues.map((issue) => `${issue.path.map(String).join('.') || 'environment'}: ${issue.message}`);

/**
 * Parses the environment with a zod object schema. A schema made with `brokerEnvShape`
 * also gets its connection settings put together and checked as a whole: AMQP_URL_FILE
 * stands in for AMQP_URL, AMQP_PASSWORD_FILE fills in its password, and the TLS settings
 * go with it, so that `AMQP_URL` is the one endpoint to connect to.
 * @throws ConfigError listing every problem as `NAME: what is wrong`.
 */
export function parseEnv<S extends z.ZodObject>(schema: S, source: NodeJS.ProcessEnv): Readonly<z.output<S>> {
  const result = schema.safeParse(source);
  const problems = result.success ? [] : describeIssues(result.error.issues);
  let data = result.success ? (result.data as Record<string, unknown>) : undefined;

  if (Object.keys(connectionShape).every((name) => name in schema.shape)) {
    // When something else is wrong, the connection settings are still checked together,
    // so that every problem is listed at once.
    const connection = result.success
      ? { success: true as const, data: result.data as ConnectionSettings }
      : z.object(connectionShape).safeParse(source);
    if (connection.success) {
      const combined = combineConnection(connection.data, source);
      problems.push(...combined.problems);
      if (data !== undefined && combined.endpoint !== undefined) data = { ...data, AMQP_URL: combined.endpoint };
    }
  }

  if (problems.length > 0 || data === undefined) {
    throw new ConfigError(`invalid settings: ${problems.join('; ')}`, problems);
  }
  return Object.freeze(data) as Readonly<z.output<S>>;
}

/** A Redis URL (the password never quoted in an error). */
const redisUrlSetting = z.preprocess(
  unsetIfEmpty,
  z
    .string()
    .transform((value, ctx) => {
      try {
        return parseRedisUrl(value);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    })
    .optional(),
);

/** The settings of the shared dedup store, the same in the consumer and the producer service. */
export const dedupEnvShape = {
  DEDUP_REDIS_URL: redisUrlSetting.meta({
    description: 'Redis shared by every worker and service instance: a task done once, a key answered once',
    defaultText: 'unset: in memory, per process',
    details:
      '`redis://[user:password@]host[:port][/db]`, `rediss://` for TLS. A task is claimed there before it is done ' +
      'and marked done after; an `Idempotency-Key` is answered once. While it does not answer, no task is started ' +
      'and `/health/ready` fails. Malformed: exit 78; password refused: exit 77; no answer at start: exit 69',
  }),
  DEDUP_LEASE_MS: intSetting(1000, 3_600_000, 'milliseconds')
    .transform((v) => v ?? 30_000)
    .meta({
      description: 'how long a claim holds a task or request from the others (renewed while it runs), in ms',
      details:
        "a killed worker's task is done by another after at most this; a request's claim holds at least its deadline",
    }),
  DEDUP_REDIS_WINDOW_MS: intSetting(60_000, 2_592_000_000, 'milliseconds')
    .transform((v) => v ?? 86_400_000)
    .meta({
      description: 'how long Redis remembers a task done or a request answered, in ms (a day)',
    }),
};
