import net from 'node:net';

/**
 * One client connection through the proxy and its upstream twin. While the network is cut
 * neither is read, so no byte, FIN or reset crosses; what arrives meanwhile waits in the
 * kernel's buffers and flows on restore, as TCP would deliver it after a short outage.
 */
type Hold = 'cut' | 'backpressure' | 'bandwidth';

class Link {
  /** Reasons not to read from each side: the cut, the other side's full write buffer, the bandwidth limit. */
  private readonly holds = new Map<net.Socket, Set<Hold>>();
  /** When the client-to-broker direction has spent its bandwidth budget (epoch ms). */
  private upstreamBusyUntil = 0;
  /** A side that ended or failed during a cut: passed on to the other side on restore. */
  private pendingClose = false;
  private closed = false;

  constructor(
    private readonly client: net.Socket,
    private readonly upstream: net.Socket,
    cut: boolean,
    private readonly onClose: (link: Link) => void,
    /** Client-to-broker bytes per second, or no limit. */
    private readonly upstreamBytesPerSecond?: number,
  ) {
    for (const socket of [client, upstream]) {
      this.holds.set(socket, new Set());
      socket.setNoDelay(true);
    }
    this.forward(client, upstream);
    this.forward(upstream, client);
    if (cut) this.cut();
  }

  cut(): void {
    this.hold(this.client, 'cut');
    this.hold(this.upstream, 'cut');
  }

  restore(): void {
    this.release(this.client, 'cut');
    this.release(this.upstream, 'cut');
    if (this.pendingClose) this.destroy();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.destroy();
    this.upstream.destroy();
    this.onClose(this);
  }

  private isCut(): boolean {
    return this.holds.get(this.client)?.has('cut') ?? false;
  }

  private forward(from: net.Socket, to: net.Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) {
        this.hold(from, 'backpressure');
        to.once('drain', () => {
          this.release(from, 'backpressure');
        });
      }
      if (from === this.client && this.upstreamBytesPerSecond !== undefined)
        this.spend(chunk.length, this.upstreamBytesPerSecond);
    });
    // A clean close is passed on as one; while cut, it waits for the restore. (A paused
    // socket emits 'end' only after its data was read, so no data is lost before it.)
    from.on('end', () => {
      if (this.isCut()) this.pendingClose = true;
      else if (!to.writableEnded) to.end();
    });
    from.on('error', () => {
      if (this.isCut()) this.pendingClose = true;
      else this.destroy();
    });
    from.on('close', () => {
      if (this.isCut()) {
        this.pendingClose = true;
        return;
      }
      if (!to.writableEnded) to.end();
      if (this.client.destroyed && this.upstream.destroyed) this.destroy();
    });
  }

  /** A slow link: after each chunk the client is not read until the chunk's time has passed. */
  private spend(bytes: number, bytesPerSecond: number): void {
    const now = Date.now();
    this.upstreamBusyUntil = Math.max(now, this.upstreamBusyUntil) + (bytes / bytesPerSecond) * 1000;
    const wait = this.upstreamBusyUntil - now;
    if (wait < 1) return;
    this.hold(this.client, 'bandwidth');
    setTimeout(() => {
      this.release(this.client, 'bandwidth');
    }, wait).unref();
  }

  private hold(socket: net.Socket, reason: Hold): void {
    this.holds.get(socket)?.add(reason);
    socket.pause();
  }

  private release(socket: net.Socket, reason: Hold): void {
    const holds = this.holds.get(socket);
    holds?.delete(reason);
    if (holds?.size === 0 && !socket.destroyed) socket.resume();
  }
}

/** How a `TcpProxy` forwards, beyond the defaults. */
export interface TcpProxyOptions {
  /**
   * Bytes per second from the clients to the broker, per connection: a slow link, so that a
   * fast publisher takes long enough for a fault to land in the middle of its run.
   * @default no limit
   */
  readonly upstreamBytesPerSecond?: number;
}

/**
 * A test-only TCP proxy on 127.0.0.1 in front of a broker, to play a network cut: `cut()`
 * stops moving bytes in both directions on every connection, open or new, without closing
 * any socket (a black hole: only heartbeats can tell); `restore()` lets them flow again.
 */
export class TcpProxy {
  private readonly links = new Set<Link>();
  private isCut = false;

  private constructor(
    private readonly server: net.Server,
    /** The port clients connect to. */
    readonly port: number,
    private readonly options: TcpProxyOptions,
  ) {}

  /** Listens on a free port of 127.0.0.1 and forwards to 127.0.0.1:`targetPort`. */
  static async start(targetPort: number, options: TcpProxyOptions = {}): Promise<TcpProxy> {
    const server = net.createServer({ pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, () => {
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address');
    const proxy = new TcpProxy(server, address.port, options);
    server.on('connection', (client: net.Socket) => {
      proxy.accept(client, targetPort);
    });
    return proxy;
  }

  /**
   * A proxy in front of the broker an AMQP URL names (on this machine), and the same URL
   * through it: the login and vhost kept, the host and port the proxy's.
   */
  static async inFrontOf(
    amqpUrl: string,
    options: TcpProxyOptions = {},
  ): Promise<{ readonly proxy: TcpProxy; readonly url: string }> {
    const url = new URL(amqpUrl);
    const proxy = await TcpProxy.start(Number(url.port || 5672), options);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    return { proxy, url: url.toString() };
  }

  /** Connections open through the proxy now. */
  get connections(): number {
    return this.links.size;
  }

  get cutNow(): boolean {
    return this.isCut;
  }

  /** Stops every byte, both ways, on every connection (and on those opened while cut). */
  cut(): void {
    this.isCut = true;
    for (const link of this.links) link.cut();
  }

  /** Lets the bytes flow again; a close that happened during the cut is passed on now. */
  restore(): void {
    this.isCut = false;
    for (const link of [...this.links]) link.restore();
  }

  /** Drops every open connection at once (both sides see it closed), as a reset would. */
  reset(): void {
    for (const link of [...this.links]) link.destroy();
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    for (const link of [...this.links]) link.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }

  private accept(client: net.Socket, targetPort: number): void {
    // The upstream connection is made even while cut: the client's SYN is answered (by the
    // proxy), then nothing more, as with a route that drops packets past the first hop.
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    upstream.pause();
    const link = new Link(
      client,
      upstream,
      this.isCut,
      (closed) => this.links.delete(closed),
      this.options.upstreamBytesPerSecond,
    );
    this.links.add(link);
    if (!this.isCut) {
      client.resume();
      upstream.resume();
    }
  }
}
