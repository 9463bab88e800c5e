import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { brokerUrl, redacted } from './broker.js';

const run = promisify(execFile);

/** Where the management HTTP API of the test broker answers, and as whom the tests call it. */
export interface ManagementEndpoint {
  /** e.g. `http://localhost:15672`, without credentials. */
  readonly url: string;
  readonly user: string;
  readonly password: string;
}

/**
 * The management API of the broker at AMQP_URL: `MANAGEMENT_URL` when set, otherwise port
 * 15672 on the AMQP host; the AMQP_URL credentials (guest/guest by default).
 */
export function managementEndpoint(amqpUrl = brokerUrl()): ManagementEndpoint {
  const amqp = new URL(amqpUrl);
  const fromEnv = process.env.MANAGEMENT_URL;
  const url = new URL(fromEnv === undefined || fromEnv === '' ? `http://${amqp.hostname}:15672` : fromEnv);
  url.username = '';
  url.password = '';
  return {
    url: url.toString().replace(/\/$/, ''),
    user: decodeURIComponent(amqp.username || 'guest'),
    password: decodeURIComponent(amqp.password || 'guest'),
  };
}

/**
 * The command that enables plugins on the test broker. `RABBITMQ_PLUGINS` may name another,
 * e.g. `/usr/lib/rabbitmq/bin/rabbitmq-plugins -n t1@localhost` for a private node or
 * `docker exec <container> rabbitmq-plugins` (as `RABBITMQCTL` does for rabbitmqctl).
 */
function rabbitmqPlugins(): [string, string[]] {
  const words = (process.env.RABBITMQ_PLUGINS ?? 'rabbitmq-plugins').split(/\s+/).filter(Boolean);
  const [command = 'rabbitmq-plugins', ...rest] = words;
  return [command, rest];
}

/** The HTTP status of `GET /api/overview`, or undefined when nothing answers. */
async function overviewStatus(endpoint: ManagementEndpoint): Promise<number | undefined> {
  const authorization = `Basic ${Buffer.from(`${endpoint.user}:${endpoint.password}`).toString('base64')}`;
  try {
    const response = await fetch(`${endpoint.url}/api/overview`, {
      headers: { authorization },
      signal: AbortSignal.timeout(5000),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return undefined;
  }
}

/**
 * Makes sure the management API of the test broker answers, and returns where. Idempotent
 * and cheap when it already does (a CI image with the plugin, a second test run): only then
 * is nothing run. Otherwise it runs `rabbitmq-plugins enable rabbitmq_management` (which
 * changes the broker's enabled plugins file: the plugin stays enabled afterwards, as the
 * README's setup does) and waits until `GET /api/overview` answers 200.
 * @throws when the plugin cannot be enabled, the API refuses the credentials, or it does
 * not answer within `timeoutMs`.
 */
export async function enableManagement(
  options: { amqpUrl?: string; timeoutMs?: number } = {},
): Promise<ManagementEndpoint> {
  const endpoint = managementEndpoint(options.amqpUrl);
  const refused = (status: number) =>
    new Error(
      `the management API at ${endpoint.url} answered ${status} to user '${endpoint.user}' ` +
        `(the credentials of ${redacted(options.amqpUrl ?? brokerUrl())}); the tests need a user it accepts`,
    );

  const first = await overviewStatus(endpoint);
  if (first === 200) return endpoint;
  if (first === 401 || first === 403) throw refused(first);

  const [command, prefix] = rabbitmqPlugins();
  const args = [...prefix, 'enable', 'rabbitmq_management'];
  try {
    await run(command, args, { timeout: 120_000 });
  } catch (err) {
    throw new Error(
      `'${command} ${args.join(' ')}' failed: the ops tests need the management API of the broker ` +
        '(set RABBITMQ_PLUGINS to reach another node, or MANAGEMENT_URL if it answers elsewhere): ' +
        (err as Error).message,
      { cause: err },
    );
  }

  // The plugin starts its listener a moment after the command returns.
  const timeoutMs = options.timeoutMs ?? 60_000;
  const until = Date.now() + timeoutMs;
  let last: number | undefined;
  while (Date.now() < until) {
    last = await overviewStatus(endpoint);
    if (last === 200) return endpoint;
    if (last === 401 || last === 403) throw refused(last);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(
    `the management API at ${endpoint.url} did not answer within ${timeoutMs} ms after enabling rabbitmq_management ` +
      `(last answer: ${last ?? 'none'})`,
  );
}
