/** A broker address, parsed once at start. `redacted` is the only form ever printed. */
export interface AmqpEndpoint {
  /** The URL as given, credentials included: for the client library only. */
  readonly url: string;
  /** The URL with its password replaced by `***`. */
  readonly redacted: string;
  readonly protocol: 'amqp' | 'amqps';
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The password, decoded, kept to scrub it from any message that might echo it. */
  readonly password: string;
  /** The vhost, decoded (`/` when the URL names none). */
  readonly vhost: string;
}

export const DEFAULT_AMQP_URL = 'amqp://guest:guest@localhost:5672';

/**
 * Parses an AMQP URI (https://www.rabbitmq.com/docs/uri-spec).
 * @returns the endpoint, or the reason it is not one (never echoing the password).
 */
export function parseAmqpUrl(value: string): { ok: true; endpoint: AmqpEndpoint } | { ok: false; reason: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, reason: 'is not a valid URL (expected amqp://user:password@host:port/vhost)' };
  }
  const protocol = url.protocol.replace(/:$/, '');
  if (protocol !== 'amqp' && protocol !== 'amqps') {
    return { ok: false, reason: `must start with amqp:// or amqps://, not ${protocol}://` };
  }
  if (url.hostname === '') return { ok: false, reason: 'names no host' };
  const port = url.port === '' ? (protocol === 'amqps' ? 5671 : 5672) : Number(url.port);
  let user: string;
  let password: string;
  let vhost: string;
  try {
    user = decodeURIComponent(url.username);
    password = decodeURIComponent(url.password);
    // An empty path means the default vhost "/"; "/%2F" names it explicitly.
    vhost = url.pathname === '' || url.pathname === '/' ? '/' : decodeURIComponent(url.pathname.slice(1));
  } catch {
    return { ok: false, reason: 'has a badly %-encoded user, password or vhost' };
  }
  if (vhost.includes('/') && vhost !== '/') {
    return { ok: false, reason: 'has a vhost with an unencoded "/" (write it as %2F)' };
  }
  const redactedUrl = new URL(value);
  if (redactedUrl.password !== '') redactedUrl.password = '***';
  return {
    ok: true,
    endpoint: {
      url: value,
      redacted: redactedUrl.toString(),
      protocol,
      host: url.hostname,
      port,
      user,
      password,
      vhost,
    },
  };
}

/** Replaces every occurrence of the password (plain or %-encoded) in a text. */
export function scrubSecret(text: string, secret: string): string {
  if (secret.length === 0) return text;
  let out = text.split(secret).join('***');
  const encoded = encodeURIComponent(secret);
  if (encoded !== secret) out = out.split(encoded).join('***');
  return out;
}
