import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from './eventually.js';
import { TcpProxy } from './tcp-proxy.js';

/** A server that records what each connection sent and whether it ended, and can write back. */
async function recordingServer() {
  const connections: { socket: net.Socket; received: string; ended: boolean }[] = [];
  const server = net.createServer((socket) => {
    const entry = { socket, received: '', ended: false };
    connections.push(entry);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (entry.received += chunk));
    socket.on('end', () => (entry.ended = true));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => {
    server.listen({ host: '127.0.0.1', port: 0 }, resolve);
  });
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const { socket } of connections) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

async function client(port: number) {
  const socket = net.connect({ host: '127.0.0.1', port });
  const entry = { socket, received: '', closed: false };
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (entry.received += chunk));
  socket.on('close', () => (entry.closed = true));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => {
    socket.once('connect', resolve);
  });
  return entry;
}

/** The wait of these tests: 5 s at most, checking every 10 ms (the proxy moves bytes fast). */
const WAIT = [5000, 'the condition', 10] as const;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: Parameters<typeof TcpProxy.start>[1] = {}) {
  const server = await recordingServer();
  const proxy = await TcpProxy.start(server.port, options);
  cleanups.push(server.close, () => proxy.close());
  return { server, proxy };
}

describe('TcpProxy', () => {
  it('moves bytes both ways', async () => {
    const { server, proxy } = await setup();
    const c = await client(proxy.port);
    c.socket.write('ping');
    await eventually(() => server.connections[0]?.received === 'ping', ...WAIT);
    server.connections[0]?.socket.write('pong');
    await eventually(() => c.received === 'pong', ...WAIT);
    expect(proxy.connections).toBe(1);
  });

  it('while cut, moves nothing and closes nothing; on restore, what waited arrives', async () => {
    const { server, proxy } = await setup();
    const c = await client(proxy.port);
    c.socket.write('before');
    await eventually(() => server.connections[0]?.received === 'before', ...WAIT);

    proxy.cut();
    c.socket.write(' during');
    server.connections[0]?.socket.write('reply during');
    await sleep(300);
    expect(server.connections[0]?.received).toBe('before');
    expect(c.received).toBe('');
    expect(c.closed).toBe(false);

    proxy.restore();
    await eventually(
      () => server.connections[0]?.received === 'before during' && c.received === 'reply during',
      ...WAIT,
    );
  });

  it('holds a connection opened during the cut until the restore', async () => {
    const { server, proxy } = await setup();
    proxy.cut();
    const c = await client(proxy.port);
    c.socket.write('hello');
    await sleep(300);
    expect(server.connections.map((s) => s.received).join('')).toBe('');
    proxy.restore();
    await eventually(() => server.connections.some((s) => s.received === 'hello'), ...WAIT);
  });

  it('passes a close that happened during the cut on only after the restore', async () => {
    const { server, proxy } = await setup();
    const c = await client(proxy.port);
    c.socket.write('x');
    await eventually(() => server.connections[0]?.received === 'x', ...WAIT);
    proxy.cut();
    server.connections[0]?.socket.end();
    await sleep(300);
    expect(c.closed).toBe(false);
    proxy.restore();
    await eventually(() => c.closed, ...WAIT);
  });

  it('limits the client-to-broker bandwidth when told to, and still moves every byte', async () => {
    const { server, proxy } = await setup({ upstreamBytesPerSecond: 200_000 });
    const c = await client(proxy.port);
    const started = Date.now();
    c.socket.write('x'.repeat(200_000));
    await eventually(() => server.connections[0]?.received.length === 200_000, ...WAIT);
    // 200 kB at 200 kB/s: the first chunk (up to 64 kB) goes at once, the rest waits its turn.
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    // The other way is not limited.
    const back = Date.now();
    server.connections[0]?.socket.write('y'.repeat(200_000));
    await eventually(() => c.received.length === 200_000, ...WAIT);
    expect(Date.now() - back).toBeLessThan(500);
  });

  it('reset() drops the open connections and keeps accepting new ones', async () => {
    const { server, proxy } = await setup();
    const c = await client(proxy.port);
    await eventually(() => proxy.connections === 1, ...WAIT);
    proxy.reset();
    await eventually(() => c.closed && server.connections[0]?.socket.destroyed === true, ...WAIT);
    const again = await client(proxy.port);
    again.socket.write('still there');
    await eventually(() => server.connections[1]?.received === 'still there', ...WAIT);
  });

  it('close() closes every connection', async () => {
    const { proxy } = await setup();
    const c = await client(proxy.port);
    await eventually(() => proxy.connections === 1, ...WAIT);
    await proxy.close();
    await eventually(() => c.closed, ...WAIT);
  });
});
