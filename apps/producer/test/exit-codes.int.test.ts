import { fileURLToPath } from 'node:url';
import { runProcess } from '@hello-rabbit/testkit';
import { describe, expect, it } from 'vitest';

/**
 * The exit codes as docs/operations.md tells users to run the app: `pnpm -C apps/producer
 * start` (and `node dist/main.js`) keep them; `pnpm --filter producer start` turns every
 * failure into 1 (pnpm's filtered run), which docs/operations.md says.
 */
const appDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
// A port nothing listens on: the broker cannot be reached (exit 69).
const env = { AMQP_URL: 'amqp://guest:guest@127.0.0.1:1', AMQP_CONNECT_TIMEOUT_MS: '2000', LOG_LEVEL: 'silent' };
const LINE = 'producer: cannot reach the broker at 127.0.0.1:1: connection refused (is RabbitMQ running?)';

describe('the exit codes, run as the README says', () => {
  it('pnpm -C apps/producer start keeps them: 69 when no broker answers, with the one line', async () => {
    const result = await runProcess('pnpm', ['-C', appDir, 'start'], { env, timeoutMs: 60_000 });
    expect(result.code).toBe(69);
    expect(result.stderr).toContain(LINE);
  });

  it('so does node dist/main.js, with nothing but the line', async () => {
    const result = await runProcess(process.execPath, ['dist/main.js'], { env, cwd: appDir, timeoutMs: 60_000 });
    expect(result.code).toBe(69);
    expect(result.stderr.trim()).toBe(LINE);
  });

  // pnpm reports any failure of a filtered run as 1.
  it('pnpm --filter producer start prints the same line, but exits 1', async () => {
    const result = await runProcess('pnpm', ['--filter', 'producer', 'start'], {
      env,
      cwd: repoRoot,
      timeoutMs: 60_000,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(LINE);
  });
});
