/**
 * Redis for the tests: the shared one (127.0.0.1:6379, or REDIS_URL), and private servers
 * on free ports for the tests that stop or restart Redis or need a password.
 *
 * A private server runs in a directory of its own (`<tmpdir>/hello-rabbit-redis-*`) that
 * records its pid and the pid of the test process that started it. A test process killed
 * before it could stop its servers leaves them behind: the next `RedisServer.start` stops
 * those whose test process is gone, and removes their directories.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { freePort } from './ports.js';
import { isAlive } from './process.js';
import { isPortFree } from './rabbit-node.js';

/** The shared Redis of the tests: REDIS_URL, or 127.0.0.1:6379. */
export const sharedRedisUrl = (): string => process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Fails with one line saying how to start Redis when the shared one does not answer. */
export async function requireRedis(url = sharedRedisUrl()): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 3000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw new Error(
      `these tests need Redis at ${url.replace(/:[^:@/]*@/, ':***@')} and none answered (${(err as Error).message}). ` +
        `Start one: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`,
      { cause: err },
    );
  } finally {
    client.disconnect();
  }
}

/** Deletes every key that starts with `prefix` (SCAN, not KEYS): what a test wrote. */
export async function deleteRedisKeys(prefix: string, url = sharedRedisUrl()): Promise<number> {
  if (prefix.length < 8) throw new Error(`refusing to delete keys by so short a prefix: '${prefix}'`);
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  let deleted = 0;
  try {
    const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    for await (const keys of client.scanStream({ match, count: 1000 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) deleted += await client.del(...keys);
    }
  } finally {
    client.disconnect();
  }
  return deleted;
}

const DIR_PREFIX = 'hello-rabbit-redis-';

/** Stops the private servers of test processes that are gone, and removes their directories. */
function sweepStale(): void {
  const tmp = os.tmpdir();
  for (const name of readdirSync(tmp)) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const dir = path.join(tmp, name);
    let owner: number;
    try {
      owner = Number(readFileSync(path.join(dir, 'owner'), 'utf8'));
    } catch {
      continue;
    }
    if (isAlive(owner)) continue;
    try {
      const pid = Number(readFileSync(path.join(dir, 'redis.pid'), 'utf8'));
      if (pid > 0 && isAlive(pid)) process.kill(pid, 'SIGKILL');
    } catch {
      // No pid file: the server was not running.
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** How `RedisServer.start` runs its server. */
export interface RedisServerOptions {
  /** `requirepass`: clients must give this password. @default none */
  readonly password?: string;
}

/** A private redis-server (nothing kept on disk): stop it, start it again, kill it. */
export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {}

  /** Starts a server on a free port and waits until it answers. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    sweepStale();
    const dir = mkdtempSync(path.join(os.tmpdir(), DIR_PREFIX));
    writeFileSync(path.join(dir, 'owner'), String(process.pid));
    const server = new RedisServer(await freePort(), dir, options);
    await server.resume();
    return server;
  }

  /** The URL of this server, with the password when it has one (or `password` instead). */
  url(password = this.options.password): string {
    return `redis://${password === undefined ? '' : `:${encodeURIComponent(password)}@`}127.0.0.1:${this.port}`;
  }

  /** Whether it runs. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts it again (on the same port) after `stop` or `kill`; resolves once it answers. */
  async resume(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
    ];
    args.push('--dir', this.dir, '--pidfile', path.join(this.dir, 'redis.pid'));
    if (this.options.password !== undefined) args.push('--requirepass', this.options.password);
    const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    this.child = child;
    for (let i = 0; i < 100; i++) {
      if (!this.running) throw new Error(`redis-server on port ${this.port} exited at start: ${stderr.trim()}`);
      if (!(await isPortFree(this.port))) return;
      await sleep(50);
    }
    throw new Error(`redis-server on port ${this.port} did not listen within 5 s`);
  }

  /** Stops it (SIGTERM, waited for). */
  async stop(): Promise<void> {
    await this.end('SIGTERM');
  }

  /** Kills it (SIGKILL), as a crash would. */
  async kill(): Promise<void> {
    await this.end('SIGKILL');
  }

  /** Stops it and removes its directory. */
  async dispose(): Promise<void> {
    await this.end('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async end(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        resolve();
      });
    });
    child.kill(signal);
    await exited;
    rmSync(path.join(this.dir, 'redis.pid'), { force: true });
  }
}

/** What a test file gets from `useRedis`. */
export interface RedisFixture {
  /** The shared Redis (REDIS_URL, or 127.0.0.1:6379). */
  readonly url: string;
  /** Starts a private server, disposed of after the test. */
  start(options?: RedisServerOptions): Promise<RedisServer>;
}

/**
 * Redis for a test file: fails at once, in one line, when the shared one does not answer;
 * after each test, disposes of the private servers the test started and deletes the keys
 * under `keyPrefix()` (what the apps wrote for this file) from the shared one.
 */
export function useRedis(keyPrefix: () => string): RedisFixture {
  const servers: RedisServer[] = [];
  const clean = async () => {
    for (const server of servers.splice(0)) await server.dispose();
    await deleteRedisKeys(keyPrefix());
  };
  beforeAll(async () => {
    await requireRedis();
  });
  afterEach(clean);
  afterAll(clean);
  return {
    url: sharedRedisUrl(),
    start: async (options) => {
      const server = await RedisServer.start(options);
      servers.push(server);
      return server;
    },
  };
}
