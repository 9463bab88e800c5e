import type { QueueDeclaration } from '@hello-rabbit/broker-config';
import * as z from 'zod';
import { scrubSecret } from '@hello-rabbit/runtime';
import { ConfigError } from '@hello-rabbit/runtime';
import { BrokerError } from './errors.js';

/** Where the RabbitMQ management HTTP API answers, and as whom to call it. */
export interface ManagementLogin {
  /**
   * The API's base URL: scheme, host, port and path prefix if it has one
   * (`http://broker:15672`, `https://mq.example.com/rabbitmq`), without credentials.
   */
  readonly url: string;
  /** A user with the `management` (or `monitoring`, or `administrator`) tag. */
  readonly user: string;
  /** Sent in the Authorization header, never put in a message. */
  readonly password: string;
  /** Time one request may take, in ms. @default 10000 */
  readonly timeoutMs?: number;
  /**
   * The setting that names `url`, for the advice in errors and the name in a bad-URL error.
   * @default 'AMQP_MANAGEMENT_URL'
   */
  readonly urlSetting?: string;
}

/**
 * The management API, read-only: GETs whose answers are checked for their shape.
 * Every failure is a one-line BrokerError.
 */
export interface ManagementClient {
  /** The API's base URL, without credentials: safe to print. */
  readonly where: string;
  /**
   * GETs `path` (e.g. `/api/queues/%2F/hello`) and checks the answer against `shape`.
   * @returns the answer, or undefined when the API answers 404 (no such object)
   * @throws BrokerError: ACCESS_REFUSED (401/403: wrong login, a user without a management
   *   tag or without access to the vhost), BROKER_UNREACHABLE (refused, unknown host, a
   *   server error), CONNECT_TIMEOUT, HANDSHAKE_FAILED (not HTTP, not the management API, a
   *   redirect), BROKER_ERROR (another answer, or one of an unexpected shape)
   */
  get<T extends z.ZodType>(path: string, shape: T): Promise<z.output<T> | undefined>;
}

/** A path segment of the API: a vhost or a queue name, `/` and all, %-encoded. */
export const apiSegment = (value: string): string => encodeURIComponent(value);

/** What RabbitMQ says in the body of an error answer, e.g. `{"error":"not_authorised","reason":"Login failed"}`. */
function reasonOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { reason?: unknown; error?: unknown };
    if (typeof parsed.reason === 'string') return parsed.reason;
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON: no reason to quote
  }
  return undefined;
}

/** Why RabbitMQ answered 401 or 403, in words that say what to change. */
function refusal(reason: string | undefined, user: string): string | undefined {
  switch (reason) {
    case undefined:
    case 'Login failed':
      return 'wrong username or password';
    case 'Not management user':
      return (
        'the user has no management tag ' +
        `(give it one: rabbitmqctl set_user_tags '${user}' management, or monitoring)`
      );
    case 'User not authorised to access virtual host':
      return 'the user has no permissions on the vhost (rabbitmqctl set_permissions, even all "^$", gives access)';
    case 'Not administrator user':
      return 'this request needs the administrator tag';
    default:
      return undefined;
  }
}

/**
 * Checks a management API base URL.
 * @throws ConfigError (`<urlSetting>: what is wrong`) for one that is not http(s), holds
 *   credentials, a query or a fragment
 */
function baseUrl(value: string, setting: string): string {
  const bad = (what: string) => new ConfigError(`${setting}: ${what}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad('is not a valid URL (expected http://host:15672)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw bad(`must start with http:// or https://, not ${url.protocol}//`);
  if (url.username !== '' || url.password !== '')
    throw bad('must not hold a user or password (give the login separately)');
  if (url.search !== '' || url.hash !== '') throw bad('must not have a query or a fragment');
  return url.toString().replace(/\/+$/, '');
}

/**
 * A client of the management API (Node's fetch). Redirects are not followed: one would
 * either lose the credentials or send them elsewhere, so it is an error that says where
 * to point the URL instead. Whatever a server or a library echoes, the password never
 * reaches a message.
 * @throws ConfigError when `login.url` is not an http(s) URL without credentials
 */
export function createManagementClient(login: ManagementLogin): ManagementClient {
  const setting = login.urlSetting ?? 'AMQP_MANAGEMENT_URL';
  const where = baseUrl(login.url, setting);
  const host = new URL(where).hostname;
  const timeoutMs = login.timeoutMs ?? 10_000;
  const authorization = `Basic ${Buffer.from(`${login.user}:${login.password}`, 'utf8').toString('base64')}`;
  const scrub = (text: string) => scrubSecret(text, login.password);

  const unreachable = (err: unknown): BrokerError => {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
      return new BrokerError(
        'CONNECT_TIMEOUT',
        `the management API at ${where} did not answer within ${timeoutMs} ms`,
        { cause: err },
      );
    }
    const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
    const code = typeof cause?.code === 'string' ? cause.code : undefined;
    switch (code) {
      case 'ECONNREFUSED':
        return new BrokerError(
          'BROKER_UNREACHABLE',
          `cannot reach the management API at ${where}: connection refused ` +
            `(is the rabbitmq_management plugin enabled? set ${setting} if it listens elsewhere)`,
          { cause: err },
        );
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return new BrokerError('BROKER_UNREACHABLE', `cannot reach the management API: host '${host}' not found`, {
          cause: err,
        });
      case 'UND_ERR_CONNECT_TIMEOUT':
      case 'ETIMEDOUT':
        return new BrokerError('CONNECT_TIMEOUT', `cannot reach the management API at ${where}: no answer in time`, {
          cause: err,
        });
      default: {
        if (code?.startsWith('HPE_') === true) {
          return new BrokerError(
            'HANDSHAKE_FAILED',
            `the server at ${where} did not answer HTTP (is it the management API's port?)`,
            { cause: err },
          );
        }
        const detail =
          typeof cause?.message === 'string' ? cause.message : err instanceof Error ? err.message : String(err);
        return new BrokerError('BROKER_UNREACHABLE', `cannot reach the management API at ${where}: ${scrub(detail)}`, {
          cause: err,
        });
      }
    }
  };

  /** GETs a path; `undefined` on 404. */
  const request = async (path: string): Promise<unknown> => {
    let response: Response;
    let body: string;
    try {
      response = await fetch(`${where}${path}`, {
        headers: { authorization, accept: 'application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      body = await response.text();
    } catch (err) {
      throw unreachable(err);
    }
    if (response.status === 404) return undefined;
    if (response.status === 401 || response.status === 403) {
      const reason = reasonOf(body);
      throw new BrokerError(
        'ACCESS_REFUSED',
        `the management API at ${where} refused ` +
          `user '${login.user}': ${refusal(reason, login.user) ?? scrub(reason ?? 'refused')}`,
      );
    }
    if (response.status >= 300 && response.status < 400) {
      throw new BrokerError(
        'HANDSHAKE_FAILED',
        `the management API at ${where} answered with a redirect (${response.status}); ` +
          `set ${setting} to the address it redirects to`,
      );
    }
    if (response.status >= 500) {
      throw new BrokerError(
        'BROKER_UNREACHABLE',
        `the management API at ${where} answered ${response.status}: ${scrub(reasonOf(body) ?? 'server error')}`,
      );
    }
    if (!response.ok) {
      throw new BrokerError(
        'BROKER_ERROR',
        `the management API at ${where} answered ${response.status} ` +
          `to GET ${path}: ${scrub(reasonOf(body) ?? 'no reason given')}`,
      );
    }
    try {
      return JSON.parse(body) as unknown;
    } catch {
      throw new BrokerError(
        'HANDSHAKE_FAILED',
        `the server at ${where} did not answer as the RabbitMQ management API (no JSON from GET ${path})`,
      );
    }
  };

  return {
    where,
    get: async (path, shape) => {
      const body = await request(path);
      if (body === undefined) return undefined;
      const parsed = shape.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new BrokerError(
          'BROKER_ERROR',
          `the management API at ${where} answered GET ${path} in an unexpected shape ` +
            `(${issue?.path.map(String).join('.') ?? ''}: ${issue?.message ?? 'invalid'})`,
        );
      }
      return parsed.data;
    },
  };
}

/** Arguments of a queue as the API shows them: as they were declared. */
const argumentsTable = z.record(z.string(), z.unknown());

/** A policy definition; RabbitMQ writes an empty one as `[]`. */
export const policyDefinitionShape = z.union([
  argumentsTable,
  z.array(z.unknown()).transform((): Record<string, unknown> => ({})),
]);

/** A queue as `GET /api/queues/{vhost}/{name}` (and the list) shows it; other fields pass through. */
export const managementQueueShape = z.looseObject({
  name: z.string(),
  durable: z.boolean(),
  auto_delete: z.boolean(),
  exclusive: z.boolean().default(false),
  arguments: argumentsTable,
  /** Absent before RabbitMQ 3.8 and for classic queues of some versions. */
  type: z.string().default('classic'),
  /** Statistics: absent until the broker has emitted them (every 5 s by default). */
  consumers: z.number().optional(),
  messages: z.number().optional(),
  effective_policy_definition: policyDefinitionShape.nullish(),
  policy: z.string().nullish(),
  operator_policy: z.string().nullish(),
});
/** A queue as the management API describes it (`GET /api/queues/<vhost>/<name>`), parsed. */
export type ManagementQueue = z.output<typeof managementQueueShape>;

/** What `queue.declare` asks of a queue, in the terms the broker compares them in. */
export interface QueueShape {
  /** `x-queue-type`: `classic` when none is asked for. */
  readonly type: string;
  readonly durable: boolean;
  readonly exclusive: boolean;
  readonly autoDelete: boolean;
  /** Every argument but `x-queue-type` (which is `type`). */
  readonly arguments: Readonly<Record<string, unknown>>;
}

/** A queue declaration of the contract as a QueueShape. */
export function queueShapeOf(declaration: QueueDeclaration): QueueShape {
  const { 'x-queue-type': type, ...rest } = declaration.options.arguments;
  return {
    type: typeof type === 'string' ? type : 'classic',
    durable: declaration.options.durable,
    exclusive: declaration.options.exclusive,
    autoDelete: declaration.options.autoDelete,
    arguments: rest,
  };
}

/** One property in which a queue on the broker differs from what is declared. */
export interface QueueDifference {
  /** `type`, `durable`, `exclusive`, `auto_delete`, or `arguments.<name>` (e.g. `arguments.x-overflow`). */
  readonly property: string;
  /** `undefined` when the declaration does not set it. */
  readonly contract: unknown;
  /** `undefined` when the queue on the broker does not have it. */
  readonly broker: unknown;
}

/** Values as the broker compares them: JSON-equal, key order aside. */
function canonical(value: unknown): string {
  if (value === undefined) return 'undefined';
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
        )
      : v,
  );
}

/** Every argument set on either side and not equal on both, by name. */
export function argumentDifferences(
  contract: Readonly<Record<string, unknown>>,
  broker: Readonly<Record<string, unknown>>,
): QueueDifference[] {
  const names = [...new Set([...Object.keys(contract), ...Object.keys(broker)])].sort();
  return names
    .filter((name) => canonical(contract[name]) !== canonical(broker[name]))
    .map((name) => ({ property: `arguments.${name}`, contract: contract[name], broker: broker[name] }));
}

/**
 * How a queue on the broker differs from what is declared: type, durable, exclusive,
 * auto-delete, and every argument set on either side (an argument the declaration does
 * not set but the queue has counts: an active declaration would fail on it too). Pure.
 */
export function queueDifferences(expected: QueueShape, live: ManagementQueue): QueueDifference[] {
  const differences: QueueDifference[] = [];
  const compare = (property: string, contract: unknown, broker: unknown) => {
    if (canonical(contract) !== canonical(broker)) differences.push({ property, contract, broker });
  };
  compare('type', expected.type, live.type);
  compare('durable', expected.durable, live.durable);
  compare('exclusive', expected.exclusive, live.exclusive);
  compare('auto_delete', expected.autoDelete, live.auto_delete);
  // The broker shows the type as an argument too (or not, for a classic queue): `type` covers it.
  const liveArguments = Object.fromEntries(Object.entries(live.arguments).filter(([name]) => name !== 'x-queue-type'));
  differences.push(...argumentDifferences(expected.arguments, liveArguments));
  return differences;
}

/** One way a vhost's queues differ from the contract, with its line for people. */
export type QueueDrift =
  | {
      readonly kind: 'missing';
      readonly queue: string;
      /**
       * The contract lets the apps use an existing queue of another shape
       * (see `QueueDeclaration.adoptExisting`), other than in its `requiredArguments`.
       */
      readonly adoptable: boolean;
      /** e.g. `vhost 'prod' has no queue 'task_queue.retry.3'` */
      readonly description: string;
    }
  | (QueueDifference & {
      readonly kind: 'different';
      readonly queue: string;
      readonly adoptable: boolean;
      /**
       * e.g. `queue 'task_queue.retry.1': x-dead-letter-routing-key is "hello" on the broker,
       * "task_queue" in the contract`
       */
      readonly description: string;
    });

/** A value in a line for people: `not set` for nothing, strings quoted, the rest as JSON. */
const show = (value: unknown) => (value === undefined || value === null ? 'not set' : JSON.stringify(value));

function describeDifference(queue: string, difference: QueueDifference): string {
  const what = difference.property.replace(/^arguments\./, '');
  return (
    `queue '${queue}': ${what} is ${show(difference.broker)} on the broker, ` +
    `${show(difference.contract)} in the contract`
  );
}

export interface ManagementCheckOptions extends ManagementLogin {
  /** The vhost the apps use. */
  readonly vhost: string;
  /** The queue declarations to compare with, e.g. `Object.values(queues)` of broker-config. */
  readonly queues: readonly QueueDeclaration[];
}

/**
 * Compares the contract's queues with a vhost's, through the management API (which, unlike
 * AMQP, shows a queue's arguments without declaring it): for each queue,
 * `GET /api/queues/{vhost}/{name}`, then its type, `durable`, `exclusive`, `auto_delete` and
 * every argument (`x-queue-type`, `x-dead-letter-exchange`, `x-dead-letter-routing-key`,
 * `x-dead-letter-strategy`, `x-overflow`, `x-delivery-limit`, `x-message-ttl`, ...)
 * against its declaration. Policies are not taken into account: they do not make a
 * declaration fail.
 *
 * The user needs a management tag (`management` is enough) and permissions on the vhost,
 * whatever they are: the apps' own least-privilege users will do.
 *
 * @returns every difference, one line each (`description`), in the order of `queues`;
 *   empty when the vhost has every queue as declared
 * @throws ConfigError for a bad URL (naming `urlSetting`); BrokerError for the API: a
 *   refused login (ACCESS_REFUSED, saying why), a vhost that does not exist
 *   (VHOST_NOT_FOUND), an API that cannot be reached or does not answer as one
 */
export async function checkQueuesViaManagement(options: ManagementCheckOptions): Promise<QueueDrift[]> {
  const client = createManagementClient(options);
  const { vhost } = options;
  const found = await Promise.all(
    options.queues.map((declaration) =>
      client.get(`/api/queues/${apiSegment(vhost)}/${apiSegment(declaration.name)}`, managementQueueShape),
    ),
  );
  // A queue of a vhost that does not exist is a 404 too: one list of the vhost tells which.
  if (found.some((queue) => queue === undefined)) {
    const listed = await client.get(`/api/queues/${apiSegment(vhost)}?columns=name`, z.array(z.unknown()));
    if (listed === undefined) {
      throw new BrokerError(
        'VHOST_NOT_FOUND',
        `the management API at ${client.where} has no vhost '${vhost}': it does not exist`,
      );
    }
  }
  return options.queues.flatMap((declaration, index): QueueDrift[] => {
    const live = found[index];
    const adoptable = declaration.adoptExisting;
    if (live === undefined) {
      return [
        {
          kind: 'missing',
          queue: declaration.name,
          adoptable,
          description: `vhost '${vhost}' has no queue '${declaration.name}'`,
        },
      ];
    }
    const required = new Set((declaration.requiredArguments ?? []).map((name) => `arguments.${name}`));
    return queueDifferences(queueShapeOf(declaration), live).map((difference) => ({
      kind: 'different',
      queue: declaration.name,
      adoptable: adoptable && !required.has(difference.property),
      ...difference,
      description: describeDifference(declaration.name, difference),
    }));
  });
}
