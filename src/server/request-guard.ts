import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RequestHandler } from 'express';
import { REQUEST_LIMITS } from '../config/defaults.js';
import type { FlagsConfig } from '../config/types.js';
import { sendProblem } from '../errors/problem.js';
import { SwitchyardError } from '../errors/switchyard-error.js';
import { normalizeRequestPath, parseAbsoluteForm, splitUrl } from '../routing/request-path.js';
import type { RouteTable } from '../routing/route-table.js';

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

export interface RequestGuard {
  /** In front of a plain listener: the checks, then (once its body is in, when its route limits it) `next`. */
  front(next: Listener): Listener;
  /** For the server's `checkContinue` event: the same, and `100 Continue` only for a body that will be taken. */
  checkContinue(next: Listener): Listener;
  /** The same checks in Express, for requests that did not come through `front` (a no-op for those that did). */
  readonly middleware: RequestHandler;
}

/**
 * What every request meets before it is routed: one Host (400), unambiguous framing (400), at
 * most REQUEST_LIMITS.maxHeaderCount header lines (431) and a request target of at most
 * maxTargetBytes (414) — a legacy server would refuse more with a bare 400 and a closed upstream
 * connection — and the route's `maxBodyBytes`: a declared Content-Length over it is refused (413)
 * before a byte is read; any other body is held in memory until it is complete (then it goes on
 * with a Content-Length, the way nginx buffers request bodies) or over the limit (413). Either
 * way neither side sees any of an oversized body, and a slow upload never holds a gunicorn worker
 * while it trickles in. Without a limit the first bodyHoldBytes are held the same way, so small
 * bodies (most API calls) get the same protection and big ones stream. Only routed requests'
 * bodies are held (not the admin API's, nor an embedding app's own routes'). Refusals close the
 * connection: the rest of an unread body cannot be trusted to start the next request.
 */
export function createRequestGuard(current: () => { readonly config: FlagsConfig; readonly table: RouteTable }): RequestGuard {
  // A mark on the request rather than a WeakSet: adding to a WeakSet was this guard's whole cost
  // per request (its entries are ephemerons the GC must trace); one symbol per guard.
  const admitted = Symbol('switchyard.admitted');
  type Marked = IncomingMessage & { [admitted]?: true };
  // Pipelined requests go on in the order they came: one behind a held body waits for it (it
  // would otherwise overtake it, e.g. to the upstream's last free slot, while its own answer has
  // to wait for the earlier one's — a deadlock until the queue times out).
  const inOrder = new WeakMap<Duplex, Promise<void>>();
  // `proceed` takes the request rather than closing over it: no closure per request on the front path.
  const admit = (req: IncomingMessage, res: ServerResponse, wantsContinue: boolean, proceed: Listener): void => {
    if ((req as Marked)[admitted] === true) return proceed(req, res);
    (req as Marked)[admitted] = true;
    // Pipelined behind a refused request: its connection closes after the refusal, so this one
    // would never be answered — and must not be acted on either.
    if (refusedConnections.has(req.socket)) return;
    const refusal = headRefusal(req);
    if (refusal !== null) return refuse(req, res, refusal);
    const declared = Number(req.headers['content-length'] ?? 0);
    // Only bodies of requests a route claims are held: the admin API has its own limit, and an
    // embedding app's own routes keep their streaming.
    const body = req.headers['transfer-encoding'] !== undefined || declared > 0 ? bodyPolicyOf(req, current()) : null;
    const limit = body?.limit ?? null;
    if (limit !== null && declared > limit) return refuse(req, res, tooLarge(limit));
    if (wantsContinue) res.writeContinue();
    const earlier = inOrder.get(req.socket);
    if (body === null && earlier === undefined) return proceed(req, res);
    const turn = Promise.all([body === null ? ('complete' as const) : holdBody(req, limit), earlier]).then(
      ([outcome]) =>
        new Promise<void>((done) => {
          if (outcome === 'too-large') refuse(req, res, tooLarge(limit ?? 0));
          if (outcome !== 'complete' && outcome !== 'streaming') return done();
          // Once the stream has taken back what was held (see holdBody); the next request on
          // this connection goes on only after this one has.
          setImmediate(() => {
            done();
            proceed(req, res);
          });
        }),
    );
    inOrder.set(req.socket, turn);
    void turn.then(() => {
      if (inOrder.get(req.socket) === turn) inOrder.delete(req.socket);
    });
  };
  return {
    front: (next) => (req, res) => admit(req, res, false, next),
    checkContinue: (next) => (req, res) => admit(req, res, true, next),
    middleware: (req, res, next) => admit(req, res, false, () => next()),
  };
}

function headRefusal(req: IncomingMessage): SwitchyardError | null {
  // RFC 9112 §3.2: 400 for an HTTP/1.1 request without a Host, or with two — which one a backend
  // (or the cache key) believes would otherwise be anyone's guess. Node would answer the first
  // with a bare 400 itself; the server leaves it to us (requireHostHeader: false) for problem+json.
  const hosts = hostLines(req.rawHeaders);
  if (hosts > 1 || (hosts === 0 && req.httpVersion === '1.1')) {
    return new SwitchyardError('SWITCHYARD_BAD_HOST', hosts > 1 ? 'more than one Host header' : 'an HTTP/1.1 request needs a Host header', { status: 400 });
  }
  // Framing a backend could read differently from Node: only `chunked`, and never beside a
  // Content-Length (Node flags some of these only after the request was handed over).
  const te = req.headers['transfer-encoding'];
  if (te !== undefined && (te.trim().toLowerCase() !== 'chunked' || req.headers['content-length'] !== undefined)) {
    return new SwitchyardError('SWITCHYARD_BAD_FRAMING', 'a Transfer-Encoding other than `chunked`, or beside a Content-Length', { status: 400 });
  }
  if (req.rawHeaders.length / 2 > REQUEST_LIMITS.maxHeaderCount) {
    return new SwitchyardError('SWITCHYARD_TOO_MANY_HEADERS', `more than ${REQUEST_LIMITS.maxHeaderCount} header lines`, { status: 431 });
  }
  if ((req.url ?? '').length > REQUEST_LIMITS.maxTargetBytes) {
    return new SwitchyardError('SWITCHYARD_URI_TOO_LONG', `the request target is longer than ${REQUEST_LIMITS.maxTargetBytes} bytes`, { status: 414 });
  }
  return null;
}

function hostLines(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.length === 4 && rawHeaders[i]!.toLowerCase() === 'host') count++;
  return count;
}

function tooLarge(limit: number): SwitchyardError {
  return new SwitchyardError('SWITCHYARD_BODY_TOO_LARGE', `the request body is larger than this route's limit of ${limit} bytes`, { status: 413 });
}

/** Connections that answered a refusal: closed after it, nothing behind it is served. */
const refusedConnections = new WeakSet<Duplex>();

function refuse(req: IncomingMessage, res: ServerResponse, error: SwitchyardError): void {
  refusedConnections.add(req.socket);
  sendProblem(res, error, {}, { connection: 'close' });
  // Discard what still arrives while the answer is written; the connection closes after it.
  req.resume();
}

/** The body rules of the route claiming the request (its `maxBodyBytes`, else settings'); null when none claims it. */
function bodyPolicyOf(req: IncomingMessage, snapshot: { readonly config: FlagsConfig; readonly table: RouteTable }): { readonly limit: number | null } | null {
  const url = req.url ?? '/';
  const { path } = splitUrl(url.startsWith('/') ? url : (parseAbsoluteForm(url)?.originForm ?? url));
  const normalized = normalizeRequestPath(path);
  // A path routing will refuse (400) never reaches a side.
  if (!normalized.ok) return null;
  const match = snapshot.table.match(req.method ?? 'GET', normalized.path);
  if (match.kind !== 'matched') return null;
  const own = match.route.config.maxBodyBytes;
  return { limit: own === undefined ? snapshot.config.settings.maxBodyBytes : own };
}

/**
 * Holds the body before anyone reads it: all of it when the route has a limit (at most `limit`
 * bytes), else its first REQUEST_LIMITS.bodyHoldBytes. What was held is handed back to the
 * request stream, so whoever reads `req` next — the proxy, a new handler, the shadow mirror —
 * gets it as if it were arriving now. A body that ended within the hold goes on re-framed with a
 * Content-Length (no Transfer-Encoding): one unambiguous message, checked whole by Node's parser
 * before a side sees its first byte; a longer unlimited one streams on from where the hold ended.
 */
function holdBody(req: IncomingMessage, limit: number | null): Promise<'complete' | 'streaming' | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const settle = (outcome: 'complete' | 'streaming' | 'too-large' | 'aborted'): void => {
      req.removeListener('readable', onReadable);
      req.removeListener('close', onClose);
      // Handed back in front of whatever the stream still holds; `complete` is set before the
      // stream's end is emitted, so a whole body unshifted here is read again and 'end' follows.
      if (outcome === 'complete' || outcome === 'streaming') {
        if (total > 0) req.unshift(Buffer.concat(chunks, total));
      }
      resolve(outcome);
    };
    const onClose = (): void => {
      if (!req.complete) settle('aborted');
    };
    const onReadable = (): void => {
      for (let chunk = req.read() as Buffer | null; chunk !== null; chunk = req.read() as Buffer | null) {
        total += chunk.length;
        chunks.push(chunk);
        if (limit !== null && total > limit) return settle('too-large');
        if (limit === null && total >= REQUEST_LIMITS.bodyHoldBytes && !req.complete) return settle('streaming');
      }
      if (!req.complete) return;
      req.headers['content-length'] = String(total);
      delete req.headers['transfer-encoding'];
      settle('complete');
    };
    req.on('readable', onReadable);
    req.on('close', onClose);
  });
}
