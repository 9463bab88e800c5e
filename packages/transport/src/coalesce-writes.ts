/**
 * One write to the socket per turn of the event loop, instead of one per frame.
 *
 * amqplib queues every frame a channel sends (a publish, an ack) in that channel's buffer;
 * its multiplexer then moves the frames of every channel to the socket, once per turn of
 * the event loop, writing each frame on its own. With `noDelay` each of those writes is a
 * system call and a TCP segment: at tens of thousands of messages a second, the client and
 * the broker spend more time on them than on the messages. Corking the socket while the
 * multiplexer runs hands the whole batch to the kernel in one `writev`: the same bytes, in
 * the same order, at the same moment, in far fewer segments.
 *
 * This reaches into amqplib's connection (`muxer`, `_readIncoming`, `out`), which is
 * pinned in the catalog; when that shape is not there (another amqplib), nothing is
 * changed and the connection works as amqplib wrote it.
 */

/** The parts of amqplib's `Mux` (lib/mux.js) this relies on. */
interface Socket {
  cork(this: Socket): void;
  uncork(this: Socket): void;
  write: (this: Socket, chunk: Buffer) => boolean;
  readonly writableLength: number;
}

interface Muxer {
  out: Socket;
  _readIncoming: (this: Muxer) => void;
  [coalesced]?: true;
}

/** Bytes one batch may hold in the socket's buffer before the multiplexer waits for it. */
const BATCH_BYTES = 1024 * 1024;

const coalesced = Symbol('hello-rabbit.coalesced');

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

function isMuxer(value: unknown): value is Muxer {
  if (!isObject(value) || typeof value._readIncoming !== 'function') return false;
  const out = value.out;
  return (
    isObject(out) &&
    typeof out.cork === 'function' &&
    typeof out.uncork === 'function' &&
    typeof out.write === 'function'
  );
}

/**
 * Makes an amqplib connection (the `connection` of any of its channels) write each turn's
 * frames in one system call. Idempotent. Returns false, changing nothing, when the
 * connection is not of the shape this knows.
 */
export function coalesceWrites(connection: unknown): boolean {
  const muxer =
    typeof connection === 'object' && connection !== null ? (connection as { muxer?: unknown }).muxer : undefined;
  if (!isMuxer(muxer)) return false;
  if (muxer[coalesced]) return true;
  const readIncoming = muxer._readIncoming;
  muxer._readIncoming = function (this: Muxer) {
    const out = this.out;
    const write = out.write;
    // While corked every frame waits in the socket's buffer, so its write() reports "full"
    // past the socket's small high-water mark and the multiplexer would stop at a couple of
    // 10 KB messages. It may go on while the socket holds less than BATCH_BYTES; past
    // that, the multiplexer waits for 'drain' as usual. The buffer stays bounded.
    out.write = (chunk: Buffer) => write.call(out, chunk) || out.writableLength < BATCH_BYTES;
    out.cork();
    try {
      readIncoming.call(this);
    } finally {
      out.write = write;
      out.uncork();
    }
  };
  muxer[coalesced] = true;
  return true;
}
