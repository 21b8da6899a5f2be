/**
 * REDIS_URL, parsed and validated (pure: no I/O, no ioredis). Three deployments, one variable:
 *
 *   redis://[user:password@]host[:6379][/db]            one server (rediss:// for TLS)
 *   redis+sentinel://[user:password@]host[:26379],host[:26379]…/primary-name[/db][?sentinelPassword=…&sentinelUsername=…]
 *                                                        a Sentinel set; user/password are the data nodes'
 *   redis+cluster://[user:password@]host[:6379],host[:6379]…   a Redis Cluster (seed nodes; database 0 only)
 *
 * `rediss+sentinel://` and `rediss+cluster://` use TLS to every node (and to the sentinels).
 * Credentials are percent-decoded; a password with `@ / ? #` must be percent-encoded.
 */

export interface RedisHost {
  readonly host: string;
  readonly port: number;
}

interface Common {
  readonly username: string | null;
  readonly password: string | null;
  readonly tls: boolean;
  /** For logs: the URL with its passwords replaced by `***`. */
  readonly display: string;
}

export type RedisTarget =
  | (Common & { readonly kind: 'standalone'; readonly host: string; readonly port: number; readonly db: number })
  | (Common & { readonly kind: 'sentinel'; readonly sentinels: readonly RedisHost[]; readonly name: string; readonly db: number; readonly sentinelUsername: string | null; readonly sentinelPassword: string | null })
  | (Common & { readonly kind: 'cluster'; readonly nodes: readonly RedisHost[] });

export type RedisUrlResult = { readonly ok: true; readonly target: RedisTarget } | { readonly ok: false; readonly reason: string };

const SCHEME = /^(rediss?)(\+sentinel|\+cluster)?:\/\/(.*)$/s;
const SYNTAX = 'redis://host:port[/db], redis+sentinel://host:port,host:port/primary-name or redis+cluster://host:port,host:port (rediss… for TLS)';
const SENTINEL_OPTIONS = ['sentinelUsername', 'sentinelPassword'] as const;
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)$/;

export function parseRedisUrl(text: string): RedisUrlResult {
  const fail = (reason: string): RedisUrlResult => ({ ok: false, reason });
  const scheme = SCHEME.exec(text.trim());
  if (scheme === null) return fail(`must be one of ${SYNTAX}`);
  const [, base, variant, rest] = scheme as unknown as [string, 'redis' | 'rediss', string | undefined, string];
  if (/\s/.test(rest)) return fail('must not contain spaces');
  const kind = variant === '+sentinel' ? 'sentinel' : variant === '+cluster' ? 'cluster' : 'standalone';
  const tls = base === 'rediss';

  const queryAt = rest.indexOf('?');
  const beforeQuery = queryAt === -1 ? rest : rest.slice(0, queryAt);
  const query = new URLSearchParams(queryAt === -1 ? '' : rest.slice(queryAt + 1));
  if (beforeQuery.includes('#')) return fail('must not have a #fragment');
  const at = beforeQuery.lastIndexOf('@');
  const userinfo = at === -1 ? null : beforeQuery.slice(0, at);
  const afterUser = at === -1 ? beforeQuery : beforeQuery.slice(at + 1);
  const slash = afterUser.indexOf('/');
  const hostList = slash === -1 ? afterUser : afterUser.slice(0, slash);
  const path = slash === -1 ? [] : afterUser.slice(slash + 1).split('/').filter((s, i, all) => s !== '' || i < all.length - 1);

  const credentials = decodeUserinfo(userinfo);
  if (!credentials.ok) return fail(credentials.reason);
  const hosts = parseHosts(hostList, kind === 'sentinel' ? 26379 : 6379);
  if (!hosts.ok) return fail(hosts.reason);
  if (kind === 'standalone' && hosts.hosts.length > 1) return fail('names several hosts: use redis+sentinel:// or redis+cluster:// for more than one node');

  const allowed: readonly string[] = kind === 'sentinel' ? SENTINEL_OPTIONS : [];
  for (const name of query.keys()) {
    if (!allowed.includes(name)) return fail(`unknown option \`${name}\`${allowed.length > 0 ? ` (known: ${allowed.join(', ')})` : ` (${kind === 'cluster' ? 'redis+cluster' : 'redis'}:// URLs take none)`}`);
  }
  const { username, password } = credentials;
  const display = redactedDisplay(base, variant ?? '', username, password !== null, hostList, path, query);
  const db = (segment: string | undefined): number | null => (segment === undefined ? 0 : /^\d{1,5}$/.test(segment) ? Number(segment) : null);

  if (kind === 'cluster') {
    if (path.length > 0) return fail('a Redis Cluster has only database 0: remove the path');
    return { ok: true, target: Object.freeze({ kind, nodes: hosts.hosts, username, password, tls, display }) };
  }
  if (kind === 'sentinel') {
    const [name, dbSegment, extra] = path;
    if (name === undefined || name === '') return fail('needs the primary name Sentinel monitors: redis+sentinel://host:26379,host:26379/primary-name');
    if (!/^[A-Za-z0-9_.-]{1,128}$/.test(name)) return fail(`primary name \`${name}\`: letters, digits, dot, dash, underscore`);
    const database = db(dbSegment);
    if (database === null || extra !== undefined) return fail(`after the primary name only a database number may follow (got \`/${path.slice(1).join('/')}\`)`);
    const sentinelUsername = query.get('sentinelUsername');
    const sentinelPassword = query.get('sentinelPassword');
    return { ok: true, target: Object.freeze({ kind, sentinels: hosts.hosts, name, db: database, username, password, sentinelUsername, sentinelPassword, tls, display }) };
  }
  const [dbSegment, extra] = path;
  const database = db(dbSegment);
  if (database === null || extra !== undefined) return fail(`the path must be a database number, e.g. /0 (got \`/${path.join('/')}\`)`);
  const only = hosts.hosts[0]!;
  return { ok: true, target: Object.freeze({ kind, host: only.host, port: only.port, db: database, username, password, tls, display }) };
}

function decodeUserinfo(userinfo: string | null): { ok: true; username: string | null; password: string | null } | { ok: false; reason: string } {
  if (userinfo === null || userinfo === '') return { ok: true, username: null, password: null };
  const colon = userinfo.indexOf(':');
  try {
    const user = decodeURIComponent(colon === -1 ? userinfo : userinfo.slice(0, colon));
    const password = colon === -1 ? null : decodeURIComponent(userinfo.slice(colon + 1));
    return { ok: true, username: user === '' ? null : user, password: password === '' ? null : password };
  } catch {
    return { ok: false, reason: 'the user or password has a malformed %-escape' };
  }
}

function parseHosts(list: string, defaultPort: number): { ok: true; hosts: RedisHost[] } | { ok: false; reason: string } {
  if (list === '') return { ok: false, reason: 'needs a host, e.g. redis://127.0.0.1:6379' };
  const hosts: RedisHost[] = [];
  for (const item of list.split(',')) {
    const bracket = item.startsWith('[') ? item.indexOf(']') : -1;
    const colon = bracket !== -1 ? (item[bracket + 1] === ':' ? bracket + 1 : -1) : item.lastIndexOf(':');
    const host = colon === -1 ? item : item.slice(0, colon);
    const portText = colon === -1 ? null : item.slice(colon + 1);
    if (!HOST.test(host)) return { ok: false, reason: `host \`${item}\` is not a host name or address` };
    const port = portText === null ? defaultPort : /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) return { ok: false, reason: `host \`${item}\`: the port must be 1 to 65535` };
    hosts.push(Object.freeze({ host: host.startsWith('[') ? host.slice(1, -1) : host, port }));
  }
  return { ok: true, hosts };
}

function redactedDisplay(base: string, variant: string, username: string | null, hasPassword: boolean, hosts: string, path: readonly string[], query: URLSearchParams): string {
  const user = username === null && !hasPassword ? '' : `${username === null ? '' : encodeURIComponent(username)}${hasPassword ? ':***' : ''}@`;
  const shown = [...query].map(([k, v]) => `${k}=${k === 'sentinelPassword' ? '***' : encodeURIComponent(v)}`).join('&');
  return `${base}${variant}://${user}${hosts}${path.length > 0 ? `/${path.join('/')}` : ''}${shown === '' ? '' : `?${shown}`}`;
}
