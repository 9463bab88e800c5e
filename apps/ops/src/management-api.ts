import { BrokerError, scrubSecret } from '@hello-rabbit/broker-client';
import { z } from 'zod';
import type { ManagementSettings } from './load-env.js';

/** Arguments of a queue, exchange or binding as the API shows them. */
const argumentsTable = z.record(z.string(), z.unknown());

/** A policy definition; RabbitMQ writes an empty one as `[]`. */
const definition = z.union([argumentsTable, z.array(z.unknown()).transform((): Record<string, unknown> => ({}))]);

const queue = z.looseObject({
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
  effective_policy_definition: definition.nullish(),
  policy: z.string().nullish(),
  operator_policy: z.string().nullish(),
});
export type ApiQueue = z.output<typeof queue>;

const exchange = z.looseObject({
  name: z.string(),
  type: z.string(),
  durable: z.boolean(),
  auto_delete: z.boolean(),
  internal: z.boolean(),
  arguments: argumentsTable,
});
export type ApiExchange = z.output<typeof exchange>;

const binding = z.looseObject({
  source: z.string(),
  destination: z.string(),
  destination_type: z.enum(['queue', 'exchange']),
  routing_key: z.string(),
  arguments: argumentsTable,
});
export type ApiBinding = z.output<typeof binding>;

const policy = z.looseObject({
  name: z.string(),
  pattern: z.string(),
  'apply-to': z.string(),
  definition,
  priority: z.number(),
});
export type ApiPolicy = z.output<typeof policy>;

const overview = z.looseObject({
  management_version: z.string(),
  rabbitmq_version: z.string().optional(),
});
export type ApiOverview = z.output<typeof overview>;

/** The RabbitMQ management HTTP API, the few reads the tool needs. Every failure is a one-line BrokerError. */
export interface ManagementApi {
  /** The API's base URL, without credentials. */
  readonly where: string;
  overview(): Promise<ApiOverview>;
  /** Whether the vhost exists (and the user may see it). */
  hasVhost(vhost: string): Promise<boolean>;
  queues(vhost: string): Promise<ApiQueue[]>;
  /** One queue, or undefined when it does not exist. */
  queue(vhost: string, name: string): Promise<ApiQueue | undefined>;
  exchanges(vhost: string): Promise<ApiExchange[]>;
  bindings(vhost: string): Promise<ApiBinding[]>;
  policies(vhost: string): Promise<ApiPolicy[]>;
  operatorPolicies(vhost: string): Promise<ApiPolicy[]>;
}

const segment = (value: string) => encodeURIComponent(value);

/** What RabbitMQ says in the body of an error answer, e.g. `{"error":"not_authorized","reason":"Login failed"}`. */
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

export function createManagementApi(settings: ManagementSettings): ManagementApi {
  const where = settings.url;
  const host = new URL(where).hostname;
  const authorization = `Basic ${Buffer.from(`${settings.user}:${settings.password}`).toString('base64')}`;
  // Whatever a server or a library echoes, the password never reaches a message.
  const scrub = (text: string) => scrubSecret(text, settings.password);

  /** GETs a path; `undefined` on 404. */
  const request = async (path: string): Promise<unknown> => {
    let response: Response;
    try {
      response = await fetch(`${where}${path}`, {
        headers: { authorization, accept: 'application/json' },
        // A redirect would either lose the credentials or send them elsewhere: say so instead.
        redirect: 'manual',
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
    } catch (err) {
      throw unreachable(err);
    }
    const body = await response.text().catch(() => '');
    if (response.status === 404) return undefined;
    if (response.status === 401 || response.status === 403) {
      const reason = reasonOf(body);
      const why =
        reason === undefined || reason === 'Login failed'
          ? 'wrong username or password'
          : reason === 'Not management user'
            ? 'the user has no management tag (management, monitoring or administrator)'
            : scrub(reason);
      throw new BrokerError('ACCESS_REFUSED', `the management API at ${where} refused user '${settings.user}': ${why}`);
    }
    if (response.status >= 300 && response.status < 400) {
      throw new BrokerError(
        'HANDSHAKE_FAILED',
        `the management API at ${where} answered with a redirect (${response.status}); set MANAGEMENT_URL to the address it redirects to`,
      );
    }
    if (response.status >= 500) {
      throw new BrokerError('BROKER_UNREACHABLE', `the management API at ${where} answered ${response.status}: ${scrub(reasonOf(body) ?? 'server error')}`);
    }
    if (!response.ok) {
      throw new BrokerError('BROKER_ERROR', `the management API at ${where} answered ${response.status} to GET ${path}: ${scrub(reasonOf(body) ?? 'no reason given')}`);
    }
    try {
      return JSON.parse(body) as unknown;
    } catch {
      throw new BrokerError('HANDSHAKE_FAILED', `the server at ${where} did not answer as the RabbitMQ management API (no JSON from GET ${path})`);
    }
  };

  const unreachable = (err: unknown): BrokerError => {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
      return new BrokerError('CONNECT_TIMEOUT', `the management API at ${where} did not answer within ${settings.timeoutMs} ms`, { cause: err });
    }
    const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
    const code = typeof cause?.code === 'string' ? cause.code : undefined;
    switch (code) {
      case 'ECONNREFUSED':
        return new BrokerError(
          'BROKER_UNREACHABLE',
          `cannot reach the management API at ${where}: connection refused (is the rabbitmq_management plugin enabled? set MANAGEMENT_URL if it listens elsewhere)`,
          { cause: err },
        );
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return new BrokerError('BROKER_UNREACHABLE', `cannot reach the management API: host '${host}' not found`, { cause: err });
      case 'UND_ERR_CONNECT_TIMEOUT':
      case 'ETIMEDOUT':
        return new BrokerError('CONNECT_TIMEOUT', `cannot reach the management API at ${where}: no answer in time`, { cause: err });
      default: {
        if (code?.startsWith('HPE_') === true) {
          return new BrokerError('HANDSHAKE_FAILED', `the server at ${where} did not answer HTTP (is it the management API's port?)`, { cause: err });
        }
        const detail = typeof cause?.message === 'string' ? cause.message : err instanceof Error ? err.message : String(err);
        return new BrokerError('BROKER_UNREACHABLE', `cannot reach the management API at ${where}: ${scrub(detail)}`, { cause: err });
      }
    }
  };

  /** GETs and checks the shape of the answer: an API of another version fails clearly, not halfway. */
  const read = async <T extends z.ZodType>(path: string, shape: T): Promise<z.output<T> | undefined> => {
    const body = await request(path);
    if (body === undefined) return undefined;
    const parsed = shape.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new BrokerError(
        'BROKER_ERROR',
        `the management API at ${where} answered GET ${path} in an unexpected shape (${issue?.path.map(String).join('.') ?? ''}: ${issue?.message ?? 'invalid'})`,
      );
    }
    return parsed.data;
  };

  /** A list in a vhost; a 404 means the vhost does not exist. */
  const list = async <T extends z.ZodType>(path: string, vhost: string, shape: T): Promise<z.output<T>[]> => {
    const items = await read(path, z.array(shape));
    if (items === undefined) throw vhostNotFound(vhost);
    return items;
  };

  const vhostNotFound = (vhost: string) =>
    new BrokerError('VHOST_NOT_FOUND', `the management API at ${where} has no vhost '${vhost}' for user '${settings.user}': it does not exist or the user has no access`);

  return {
    where,
    overview: async () => {
      const found = await read('/api/overview', overview);
      if (found === undefined) throw new BrokerError('HANDSHAKE_FAILED', `the server at ${where} has no /api/overview: is it the RabbitMQ management API?`);
      return found;
    },
    hasVhost: async (vhost) => (await request(`/api/vhosts/${segment(vhost)}`)) !== undefined,
    queues: (vhost) => list(`/api/queues/${segment(vhost)}`, vhost, queue),
    queue: (vhost, name) => read(`/api/queues/${segment(vhost)}/${segment(name)}`, queue),
    exchanges: (vhost) => list(`/api/exchanges/${segment(vhost)}`, vhost, exchange),
    bindings: (vhost) => list(`/api/bindings/${segment(vhost)}`, vhost, binding),
    policies: (vhost) => list(`/api/policies/${segment(vhost)}`, vhost, policy),
    operatorPolicies: (vhost) => list(`/api/operator-policies/${segment(vhost)}`, vhost, policy),
  };
}
