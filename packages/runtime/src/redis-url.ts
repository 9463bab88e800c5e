/** A Redis address (the shared dedup store), parsed once at start. `redacted` is the only form ever printed. */
export interface RedisAddress {
  readonly url: string;
  /** The URL with its password as `***`. */
  readonly redacted: string;
  /** The password ('' when none), for the logger's list of secrets. */
  readonly password: string;
}

/** What is wrong with a Redis URL, in one line that never quotes it. */
export class RedisUrlError extends Error {
  override readonly name = 'RedisUrlError';
}

/**
 * A Redis URL, checked: `redis://` or `rediss://` (TLS), a host, an optional port and
 * database number. Returns it with its printable form (the password as `***`) and the
 * password (for the logger's list of secrets).
 * @throws RedisUrlError saying what is wrong, never quoting the URL.
 */
export function parseRedisUrl(url: string): RedisAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RedisUrlError('not a URL; expected redis://[user:password@]host[:port][/db]');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new RedisUrlError(`scheme must be redis: or rediss:, not ${parsed.protocol}`);
  }
  if (parsed.hostname === '') throw new RedisUrlError('has no host; expected redis://[user:password@]host[:port][/db]');
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^(?:[0-9]|1[0-5])$/.test(db))
    throw new RedisUrlError(`database must be 0 to 15, not '${db.slice(0, 20)}'`);
  if (parsed.search !== '' || parsed.hash !== '') throw new RedisUrlError('takes no query or fragment');
  const password = decodeURIComponent(parsed.password);
  if (parsed.password !== '') parsed.password = '***';
  return { url, redacted: parsed.toString(), password };
}
