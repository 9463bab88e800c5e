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
  /**
   * TLS of an `amqps://` endpoint beyond Node's defaults (whom to trust, our certificate,
   * the name to check), from the AMQP_TLS_* settings. The broker's certificate is always
   * verified. @default Node's trust store, no client certificate, the URL's host
   */
  readonly tls?: EndpointTls | undefined;
  /**
   * The nodes of a cluster (AMQP_HOSTS), tried in turn: the apps connect to one and, when
   * the connection is lost, move to the next that answers. Each is reached with the URL's
   * protocol, login and vhost. @default only the URL's host and port
   */
  readonly nodes?: readonly BrokerNode[] | undefined;
}

/** One broker node's address. */
export interface BrokerNode {
  /** A name or an IP address; an IPv6 one in brackets, as in a URL (`[::1]`). */
  readonly host: string;
  readonly port: number;
}

/** `host:port`. */
export function formatNode(node: BrokerNode): string {
  return `${node.host}:${node.port}`;
}

/**
 * The endpoint of each node to try, in order: the endpoint itself when it names no
 * cluster, else one per node, with the URL's protocol, login, vhost and TLS settings.
 */
export function nodeEndpoints(endpoint: AmqpEndpoint): AmqpEndpoint[] {
  if (endpoint.nodes === undefined || endpoint.nodes.length === 0) return [endpoint];
  return endpoint.nodes.map((node) => {
    const url = new URL(endpoint.url);
    url.hostname = node.host;
    url.port = String(node.port);
    const redacted = new URL(url.toString());
    if (redacted.password !== '') redacted.password = '***';
    const single: AmqpEndpoint = {
      ...endpoint,
      url: url.toString(),
      redacted: redacted.toString(),
      host: node.host,
      port: node.port,
    };
    delete (single as { nodes?: unknown }).nodes;
    return single;
  });
}

/**
 * Parses AMQP_HOSTS: `host:port` entries separated by commas (the port may be left out,
 * `[v6:address]:port` for IPv6). @returns the nodes, or why the list is not valid
 */
export function parseNodeList(
  value: string,
  defaultPort: number,
): { ok: true; nodes: BrokerNode[] } | { ok: false; reason: string } {
  const entries = value.split(',').map((entry) => entry.trim());
  const nodes: BrokerNode[] = [];
  for (const entry of entries) {
    if (entry === '') return { ok: false, reason: 'has an empty entry (write host:port,host:port)' };
    const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(entry);
    if (match === null)
      return { ok: false, reason: `'${entry}' is not host:port (write [::1]:5672 for an IPv6 address)` };
    const port = match[3] === undefined ? defaultPort : Number(match[3]);
    if (port < 1 || port > 65_535) return { ok: false, reason: `'${entry}' has a port outside 1 to 65535` };
    const node = { host: match[1] === undefined ? (match[2] as string) : `[${match[1]}]`, port };
    if (nodes.some((known) => known.host === node.host && known.port === node.port)) {
      return { ok: false, reason: `lists ${formatNode(node)} twice` };
    }
    nodes.push(node);
  }
  return { ok: true, nodes };
}

/** A file read once at start. Its contents stay out of JSON and `util.inspect`: never logged. */
export interface SettingFile {
  readonly path: string;
  readonly contents: Buffer;
}

/** TLS settings of an endpoint, their files read at start. */
export interface EndpointTls {
  /** PEM certificates of the authorities trusted to sign the broker's certificate. */
  readonly ca?: SettingFile | undefined;
  /** PEM client certificate (mutual TLS). */
  readonly cert?: SettingFile | undefined;
  /** PEM private key of `cert`. */
  readonly key?: SettingFile | undefined;
  /** The name the broker's certificate must carry (and SNI), instead of the URL's host. */
  readonly servername?: string | undefined;
}

/** A SettingFile whose contents are not enumerable: JSON.stringify and pino leave them out. */
export function settingFile(path: string, contents: Buffer): SettingFile {
  const file = { path } as { path: string; contents: Buffer };
  Object.defineProperty(file, 'contents', { value: contents, enumerable: false });
  return Object.freeze(file);
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

/**
 * The endpoint with this password (as it is: any character), for a URL that names the
 * user but no password. The URL gets it %-encoded, as the AMQP URI spec wants.
 */
export function withPassword(endpoint: AmqpEndpoint, password: string): AmqpEndpoint {
  const url = new URL(endpoint.url);
  url.password = encodeURIComponent(password);
  const parsed = parseAmqpUrl(url.toString());
  if (!parsed.ok) throw new Error(`the URL with the password is not valid: ${parsed.reason}`);
  return { ...parsed.endpoint, tls: endpoint.tls };
}

/** The endpoint's URL without user and password, for a client given its login otherwise. */
export function urlWithoutCredentials(endpoint: AmqpEndpoint): string {
  const url = new URL(endpoint.url);
  url.username = '';
  url.password = '';
  return url.toString();
}

/**
 * Replaces every occurrence of the password in a text: as it is, %-encoded (as in a URL)
 * and JSON-escaped (as in a log line).
 */
export function scrubSecret(text: string, secret: string): string {
  if (secret.length === 0) return text;
  let out = text;
  for (const form of new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)])) {
    out = out.split(form).join('***');
  }
  return out;
}
