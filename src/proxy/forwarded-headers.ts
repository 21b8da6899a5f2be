import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { FORCE_HEADER, OVERRIDE_TOKEN_HEADER } from '../routing/tester-override.js';

/** RFC 9110 §7.6.1 connection-specific headers, plus the non-standard ones proxies also drop. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'upgrade'];
const HOP_BY_HOP_SET: ReadonlySet<string> = new Set(HOP_BY_HOP);

/**
 * Headers that must not reach a backend: Switchyard's own, and `Expect` — Node's server already
 * answered the client's `100-continue`, and http-proxy skips its request hooks (our timeouts)
 * for requests that still carry it.
 */
const INTERNAL = [FORCE_HEADER, OVERRIDE_TOKEN_HEADER, 'expect'];

/** End-to-end headers a client must not be able to strip by naming them in Connection. */
const PROTECTED = new Set(['host', 'transfer-encoding', 'content-length', 'forwarded']);

/**
 * Forwarding headers a client could forge; unless forwarded headers are trusted, they are
 * dropped (X-Forwarded-For/-Proto/-Host/-Prefix are replaced with our own values instead).
 */
const SPOOFABLE = ['forwarded', 'x-forwarded-port', 'x-forwarded-server', 'x-forwarded-ssl', 'x-real-ip', 'x-original-url', 'x-rewrite-url'];

/** Removes hop-by-hop headers, including every header the Connection header names. */
export function removeHopByHop(headers: IncomingHttpHeaders | OutgoingHttpHeaders): void {
  for (const name of headersNamedInConnection(headers['connection'])) delete headers[name];
  for (const name of HOP_BY_HOP) if (name in headers) delete headers[name];
}

/**
 * A copy of `headers` without the hop-by-hop ones (what a proxy passes on), built in one pass;
 * `reframed`: also without Transfer-Encoding, for a response Node frames anew for its client.
 */
export function endToEndHeaders(headers: IncomingHttpHeaders, reframed = false): IncomingHttpHeaders {
  const named = headersNamedInConnection(headers['connection']);
  const out: IncomingHttpHeaders = {};
  for (const name in headers) if (!HOP_BY_HOP_SET.has(name) && !named.has(name) && !(reframed && name === 'transfer-encoding')) out[name] = headers[name];
  return out;
}

/** The request carries a body (chunked, or a Content-Length other than 0): what neither retry nor cache may ignore. */
export function requestHasBody(headers: IncomingHttpHeaders): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
}

/**
 * A response's raw header lines (name, value, … as undici hands them over) as the lines a client
 * gets: endToEndHeaders' rules (hop-by-hop and Connection-named headers dropped, Transfer-Encoding
 * too — Node frames the body anew), names and values as the backend wrote them, then `added`
 * (Switchyard's own, lower-case names) except those the backend sent itself — its own wins, as
 * when ours are set on the response first and the backend's copied over them.
 */
export function endToEndLines(raw: readonly Buffer[], added: readonly string[] = []): string[] {
  const lines: string[] = [];
  let connection: string | undefined;
  // Whether the backend sent a header of the same name as one of ours: only then is each of ours
  // looked for in the kept lines before it is appended.
  let clash = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    const value = raw[i + 1]!.toString('latin1');
    // Only a name as long as one that is dropped can be one: the others — Content-Type, Date,
    // Server… — go on without being lower-cased.
    if (DROPPED_NAME_LENGTHS.has(name.length)) {
      const lower = name.toLowerCase();
      if (lower === 'connection') connection = connection === undefined ? value : `${connection}, ${value}`;
      if (HOP_BY_HOP_SET.has(lower) || lower === 'transfer-encoding') continue;
    }
    if (added.length > 0 && !clash && hasLine(added, name)) clash = true;
    lines.push(name, value);
  }
  const named = connection === undefined ? NONE : headersNamedInConnection(connection);
  let kept = lines;
  if (named.size > 0) {
    kept = [];
    for (let i = 0; i + 1 < lines.length; i += 2) if (!named.has(lines[i]!.toLowerCase())) kept.push(lines[i]!, lines[i + 1]!);
  }
  for (let i = 0; i + 1 < added.length; i += 2) if (!clash || !hasLine(kept, added[i]!)) kept.push(added[i]!, added[i + 1]!);
  return kept;
}

/** Whether a `[name, value, …]` list has a line named `name` (any case). */
function hasLine(lines: readonly string[], name: string): boolean {
  for (let i = 0; i < lines.length; i += 2) {
    const line = lines[i]!;
    if (line.length === name.length && line.toLowerCase() === name.toLowerCase()) return true;
  }
  return false;
}

const DROPPED_NAME_LENGTHS: ReadonlySet<number> = new Set([...HOP_BY_HOP, 'transfer-encoding'].map((name) => name.length));

/**
 * The headers a Connection header names, which a proxy drops (RFC 9110 §7.6.1) — except framing
 * and our own forwarding headers, which a client must never be able to strip. The cache reads
 * this too: what legacy does not receive cannot key a variant.
 */
export function headersNamedInConnection(connection: string | string[] | number | undefined): ReadonlySet<string> {
  if (typeof connection !== 'string') return NONE;
  // What nearly every backend and client sends: no set to build.
  if (connection === 'keep-alive' || connection === 'Keep-Alive') return KEEP_ALIVE;
  if (connection === 'close' || connection === 'Close') return CLOSE;
  const names = new Set<string>();
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase();
    if (name !== '' && !PROTECTED.has(name) && !name.startsWith('x-forwarded-')) names.add(name);
  }
  return names;
}

const NONE: ReadonlySet<string> = new Set();
const KEEP_ALIVE: ReadonlySet<string> = new Set(['keep-alive']);
const CLOSE: ReadonlySet<string> = new Set(['close']);

export interface ForwardingFacts {
  readonly clientIp: string;
  readonly encrypted: boolean;
  /** The mount prefix removed from the path ('' for none). */
  readonly stripPrefix: string;
  /** Accept the client's X-Forwarded-* (only behind a proxy you control). */
  readonly trustForwarded: boolean;
}

/**
 * The headers a backend receives: the client's, minus hop-by-hop and Switchyard's own, plus
 * X-Forwarded-For/-Proto/-Host/-Prefix so Flask's ProxyFix or Django builds URLs under the mount.
 * Untrusted X-Forwarded-* from the client are replaced, not appended, so a client cannot make
 * the legacy app believe it came from another address or host.
 */
export function forwardedRequestHeaders(incoming: IncomingHttpHeaders, facts: ForwardingFacts): IncomingHttpHeaders {
  const trusted = facts.trustForwarded;
  const named = headersNamedInConnection(incoming['connection']);
  // One pass that copies only what may go on (no deletes: they would turn the object slow).
  const headers: IncomingHttpHeaders = {};
  for (const name in incoming) {
    // WSGI servers map `X_Forwarded_Host` and `X-Forwarded-Host` to the same variable, and
    // gunicorn honours a `SCRIPT_NAME` header: underscores would smuggle both past our checks,
    // so — like nginx — headers with underscores in their names are not forwarded.
    if (name.includes('_') || DROPPED.has(name) || named.has(name) || (!trusted && SPOOFABLE_SET.has(name))) continue;
    headers[name] = incoming[name];
  }
  const priorFor = trusted ? headers['x-forwarded-for'] : undefined;
  headers['x-forwarded-for'] = priorFor ? `${String(priorFor)}, ${facts.clientIp}` : facts.clientIp;
  if (!(trusted && headers['x-forwarded-proto'])) headers['x-forwarded-proto'] = facts.encrypted ? 'https' : 'http';
  if (!(trusted && headers['x-forwarded-host'])) {
    if (headers.host === undefined) delete headers['x-forwarded-host'];
    else headers['x-forwarded-host'] = headers.host;
  }
  const priorPrefix = trusted ? firstValue(headers['x-forwarded-prefix'])?.replace(/\/+$/, '') ?? '' : '';
  const prefix = priorPrefix + facts.stripPrefix;
  if (prefix === '') delete headers['x-forwarded-prefix'];
  else headers['x-forwarded-prefix'] = prefix;
  return headers;
}

/** Never forwarded: hop-by-hop headers and Switchyard's own. */
const DROPPED: ReadonlySet<string> = new Set([...HOP_BY_HOP, ...INTERNAL]);
const SPOOFABLE_SET: ReadonlySet<string> = new Set(SPOOFABLE);

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** `/flask/hello?x=1` with prefix `/flask` → `/hello?x=1`; the mount root becomes `/`. */
export function stripPathPrefix(path: string, query: string, prefix: string): string {
  if (prefix === '') return path + query;
  const rest = path.slice(prefix.length);
  return (rest === '' || !rest.startsWith('/') ? `/${rest}` : rest) + query;
}
