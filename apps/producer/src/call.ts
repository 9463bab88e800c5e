import { ExitCode, type Logger } from '@hello-rabbit/runtime';
import { createRpcClient, type Broker } from '@hello-rabbit/transport';
import { RpcName } from '@hello-rabbit/broker-config';
import type { CallArgs } from './cli.js';

/**
 * Tutorial 6's client: asks the Fibonacci server for fib(n) and prints its answer, as
 * rpc_client.py does. A connection lost during the call is survived: the request is sent
 * again on the new connection, until the timeout. No reply within the timeout (no server,
 * a slow one, or a connection not back in time) is one line on stderr and exit 1; so is a
 * request the broker did not take.
 */
export async function callFibonacci(
  broker: Broker,
  args: CallArgs,
  io: {
    readonly out: (line: string) => void;
    readonly err: (line: string) => void;
    readonly logger: Logger;
    readonly userId?: string;
  },
): Promise<number> {
  const client = createRpcClient(broker, { logger: io.logger, userId: io.userId });
  try {
    io.out(` [x] Requesting fib(${args.n})`);
    const outcome = await client.call(RpcName.fibonacci, args.n, { timeoutMs: args.timeoutMs });
    switch (outcome.status) {
      case 'replied':
        io.out(` [.] Got ${outcome.reply}`);
        return ExitCode.ok;
      case 'timeout':
        // A connection lost and not back: the reason says so; a server is not the question.
        io.err(
          outcome.connectionLost && outcome.resent === 0
            ? `fib(${args.n}): ${outcome.reason}`
            : `fib(${args.n}): ${outcome.reason} (is a server running? consumer --from ${RpcName.fibonacci})`,
        );
        return ExitCode.failure;
      case 'returned':
        // The client declares nothing: the server declares its queue when it starts.
        io.err(`fib(${args.n}): ${outcome.reason} (no server has started: consumer --from ${RpcName.fibonacci})`);
        return ExitCode.failure;
      case 'failed':
        io.err(`fib(${args.n}): ${outcome.reason}`);
        return ExitCode.failure;
    }
  } finally {
    await client.close();
  }
}
