/**
 * The dedup store's Redis address, checked at start without loading the Redis client (the
 * settings are read before anything connects).
 */
import { ExitCode } from '@hello-rabbit/runtime';

/** A Redis address that cannot be used: fatal at start, one line, no password in it. */
export class DedupStoreError extends Error {
  override readonly name = 'DedupStoreError';
  readonly exitCode: ExitCode;

  constructor(
    readonly code: 'STORE_CONFIG' | 'STORE_AUTH' | 'STORE_UNREACHABLE',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.exitCode = code === 'STORE_CONFIG' ? ExitCode.config : code === 'STORE_AUTH' ? ExitCode.noPermission : ExitCode.unavailable;
  }
}

/**
 * A Redis URL, checked: `redis://` or `rediss://` (TLS), a host, an optional port and
 * database number. Returns it with its printable form (the password as `***`) and the
 * password (for the logger's list of secrets).
 * @throws DedupStoreError (STORE_CONFIG) saying what is wrong, never quoting the URL.
 */
export function parseRedisUrl(url: string): { readonly url: string; readonly redacted: string; readonly password: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DedupStoreError('STORE_CONFIG', 'not a URL; expected redis://[user:password@]host[:port][/db]');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new DedupStoreError('STORE_CONFIG', `scheme must be redis: or rediss:, not ${parsed.protocol}`);
  }
  if (parsed.hostname === '') throw new DedupStoreError('STORE_CONFIG', 'has no host; expected redis://[user:password@]host[:port][/db]');
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^(?:[0-9]|1[0-5])$/.test(db)) throw new DedupStoreError('STORE_CONFIG', `database must be 0 to 15, not '${db.slice(0, 20)}'`);
  if (parsed.search !== '' || parsed.hash !== '') throw new DedupStoreError('STORE_CONFIG', 'takes no query or fragment');
  const password = decodeURIComponent(parsed.password);
  if (parsed.password !== '') parsed.password = '***';
  return { url, redacted: parsed.toString(), password };
}
