import type { ExchangeDeclaration } from '@hello-rabbit/broker-config';
import { channelError } from './broker-errors.js';
import { BrokerError } from './errors.js';
import type { Logger } from '@hello-rabbit/runtime';
import type { TopologyMode } from '@hello-rabbit/runtime';
import { call, closeChannel, openChannel, type Broker } from './rascal-adapter.js';

/** How an exchange was brought up: declared with the contract's options, or adopted as it is. */
export type ExchangeMode = 'assert' | 'check';

/**
 * Declares an exchange with the contract's options (as the tutorials declare it) on a
 * throwaway channel of Rascal's connection, as `openBroker` does for queues. When the
 * broker answers `406 PRECONDITION_FAILED` the exchange exists with other options (say,
 * durable): where the contract allows it, it is adopted (checked to exist, never declared
 * again) and that is logged. An exchange of another type, or one the contract does not let
 * be adopted, is a TOPOLOGY_MISMATCH.
 *
 * Exchanges are declared by the programs that use them, when they use them, as the
 * tutorial programs do: a producer of `hello` never declares `logs`.
 *
 * With `topology: 'check'` (AMQP_TOPOLOGY=check) nothing is declared: the exchange is only
 * checked to exist (which needs no permission), and a missing one is a TOPOLOGY_MISMATCH.
 *
 * @throws BrokerError with a one-line message (no permission, mismatch, ...).
 */
export async function declareExchange(
  broker: Broker,
  exchange: ExchangeDeclaration,
  logger: Logger,
  options: { readonly topology?: TopologyMode | undefined } = {},
): Promise<ExchangeMode> {
  if (options.topology === 'check') {
    await checkExchange(
      broker,
      exchange.name,
      'AMQP_TOPOLOGY=check: ',
      ' (import the definitions from export-definitions, ' +
        'or start once with AMQP_TOPOLOGY=declare as a user who may configure it)',
    );
    return 'check';
  }
  const channel = await openChannel(broker, 'regular');
  // A 406 or 403 closes the channel; the rejection of the call below carries it.
  channel.on('error', () => undefined);
  try {
    await call((done) => {
      channel.assertExchange(
        exchange.name,
        exchange.type,
        { ...exchange.options, arguments: { ...exchange.options.arguments } },
        done,
      );
    });
    await closeChannel(channel);
    return 'assert';
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code !== 406) throw channelError(err, `declaring exchange '${exchange.name}'`) ?? err;
    // Another type is another pattern (a `logs` of type direct would not fan out): never adopted.
    if (!exchange.adoptExisting || /inequivalent arg 'type'/.test((err as Error).message)) {
      throw new BrokerError(
        'TOPOLOGY_MISMATCH',
        `exchange '${exchange.name}' exists with other properties than the contract's: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
  await checkExchange(broker, exchange.name, '', '');
  logger.info(
    { exchange: exchange.name },
    `exchange '${exchange.name}' exists with other properties; using it as it is`,
  );
  return 'check';
}

/**
 * `exchange.declare` with `passive`, which needs no permission: fails with 404 when the
 * exchange does not exist.
 */
async function checkExchange(broker: Broker, name: string, prefix: string, advice: string): Promise<void> {
  const channel = await openChannel(broker, 'regular');
  channel.on('error', () => undefined);
  try {
    await call((done) => {
      channel.checkExchange(name, done);
    });
    await closeChannel(channel);
  } catch (err) {
    if ((err as { code?: unknown }).code === 404) {
      throw new BrokerError('TOPOLOGY_MISMATCH', `${prefix}the broker has no exchange '${name}'${advice}`, {
        cause: err,
      });
    }
    throw channelError(err, `checking exchange '${name}'`) ?? err;
  }
}
