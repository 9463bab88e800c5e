import { spawnApp, type RunningProcess } from '@hello-rabbit/testkit';

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

/** A `producer serve` process and what the tests ask it. */
export class ServiceProcess {
  private constructor(
    readonly process: RunningProcess,
    /** Where it listens, from its ` [*] Listening on <url>.` line. */
    readonly url: string,
  ) {}

  /**
   * Starts the built producer's `serve` (`node dist/main.js serve`) on a free port
   * (HTTP_PORT=0) and waits until it listens. `spawn` is the testkit's `spawnApp`, or the
   * fixture's (killed after the test), or one that keeps track of the process.
   */
  static async start(
    env: Readonly<Record<string, string>>,
    spawn: typeof spawnApp = spawnApp,
  ): Promise<ServiceProcess> {
    const child = spawn('producer', ['serve'], {
      env: { HTTP_PORT: '0', LOG_LEVEL: 'info', SHUTDOWN_DELAY_MS: '0', ...env },
      timeoutMs: 300_000,
    });
    const line = await child.waitForOutput(/^ \[\*\] Listening on http:\/\/\S+\. To exit press CTRL\+C$/, 60_000);
    const url = /(http:\/\/\S+)\./.exec(line)?.[1];
    if (url === undefined) throw new Error(`no URL in '${line}'`);
    return new ServiceProcess(child, url);
  }

  /** POSTs a message: an object as JSON, a string as text/plain (unless headers say otherwise). */
  async post(publication: string, body: unknown, headers: Readonly<Record<string, string>> = {}): Promise<Answer> {
    const text = typeof body === 'string';
    const response = await fetch(`${this.url}/publications/${publication}/messages`, {
      method: 'POST',
      headers: { 'content-type': text ? 'text/plain' : 'application/json', ...headers },
      body: text ? body : JSON.stringify(body),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  async get(path: string): Promise<Answer> {
    const response = await fetch(`${this.url}${path}`);
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  /**
   * The value of one series on /metrics, e.g. `hello_rabbit_messages_confirmed_total{queue="hello"}`;
   * 0 when absent.
   */
  async metric(series: string): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? 0 : Number(line.slice(series.length + 1));
  }

  /** The JSON log lines on stderr. */
  log(): Record<string, unknown>[] {
    return this.process.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}
