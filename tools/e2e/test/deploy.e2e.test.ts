import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HELLO_QUEUES, runProcess, useTestVhost } from '@hello-rabbit/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './repo.js';

const vhost = useTestVhost('e2e-deploy', { queues: HELLO_QUEUES });
let outside: string;

beforeAll(async () => {
  // Outside the repository: nothing can be found in the workspace's node_modules.
  outside = await mkdtemp(join(tmpdir(), 'hello-rabbit-deploy-'));
});
afterAll(async () => {
  await rm(outside, { recursive: true, force: true });
});

async function deploy(app: 'producer' | 'consumer'): Promise<string> {
  const target = join(outside, app);
  const result = await runProcess('pnpm', ['--filter', app, 'deploy', '--prod', target], {
    cwd: repoRoot,
    timeoutMs: 120_000,
  });
  expect(result.code, result.stderr).toBe(0);
  return target;
}

describe('pnpm deploy', () => {
  it('yields a producer and a consumer that run with node alone, outside the monorepo', async () => {
    const [producerDir, consumerDir] = await Promise.all([deploy('producer'), deploy('consumer')]);

    // Production dependencies only: no test tooling travels with the app.
    const installed = await readdir(join(producerDir, 'node_modules'));
    expect(installed).not.toContain('vitest');
    expect(installed).not.toContain('typescript');

    const env = { AMQP_URL: vhost.url, LOG_LEVEL: 'warn' };
    const consumer = vhost.start('node', ['dist/main.js'], { cwd: consumerDir, env, timeoutMs: 90_000 });
    try {
      await consumer.waitForOutput(/Waiting for messages/);
      const sent = await runProcess('node', ['dist/main.js', 'from a deployed producer'], { cwd: producerDir, env });
      expect(sent.stdout).toBe(" [x] Sent 'from a deployed producer'\n");
      expect(sent.code).toBe(0);
      await consumer.waitForOutput(/^ \[x\] Received 'from a deployed producer'$/);
    } finally {
      expect((await consumer.stop('SIGTERM')).code).toBe(0);
    }
  });
});
