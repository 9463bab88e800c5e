import { fileURLToPath } from 'node:url';
import type { BrokerFixture, RunningProcess } from '@hello-rabbit/testkit';

/** The workspace root, where a user types `pnpm --filter ... start`. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Runs `pnpm --filter <app> start [args]` from the repository root, exactly as the README
 * says, in a process group of its own so that a CTRL+C can reach all of it as a terminal's
 * would.
 */
export function startApp(broker: BrokerFixture, app: 'producer' | 'consumer', ...args: string[]): RunningProcess {
  return broker.start('pnpm', ['--filter', app, 'start', ...args], {
    cwd: repoRoot,
    env: { AMQP_URL: broker.url, LOG_LEVEL: 'warn' },
    detached: true,
    timeoutMs: 90_000,
  });
}

/** CTRL+C in a terminal: SIGINT to every process of the foreground group. */
export function ctrlC(p: RunningProcess) {
  if (p.child.pid !== undefined) process.kill(-p.child.pid, 'SIGINT');
  return p.exited;
}
