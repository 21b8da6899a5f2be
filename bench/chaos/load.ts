/**
 * Open-loop load for the chaos runs (as bench/open-loop.ts: requests leave on a fixed schedule,
 * whatever the servers' pace) that records every request's outcome: status, problem code or
 * socket error, the decision and cache headers, timings. Requests are spread round-robin over
 * the Switchyard instances the way a load balancer would, including nginx's
 * `proxy_next_upstream error timeout http_503` (examples/compose/nginx.conf): a GET whose connection
 * was refused or broken before any response byte, or that a starting instance answered 503
 * SWITCHYARD_STARTING, is retried once on the other instance (and recorded as retried).
 */
import http from 'node:http';

/** The request mix (out of 20): which route, and its share of the traffic. */
export const KINDS = ['plain', 'plain', 'canaried', 'hello', 'hello', 'hello', 'users', 'users', 'users', 'users', 'users', 'catalog', 'catalog', 'catalog', 'cached', 'cached', 'cached', 'cached', 'toggle', 'toggle'] as const;
export type Kind = (typeof KINDS)[number];
export const USERS = 200;

export interface Outcome {
  readonly id: number;
  readonly kind: Kind;
  readonly path: string;
  readonly user: string;
  /** Index of the instance that gave the final answer (after a retry, the other one). */
  instance: number;
  /** ms since the load started. */
  readonly sentAt: number;
  doneAt: number;
  /** null: no HTTP response at all (see error). */
  status: number | null;
  /** The problem+json `code`, or the socket error (ECONNRESET, CLIENT_TIMEOUT, …). */
  error: string | null;
  contentType: string;
  backend: string | null;
  cache: string | null;
  retried: boolean;
  /** The first attempt's socket error when it was retried (ECONNREFUSED: never reached a server). */
  firstError: string | null;
}

export interface LoadHandle {
  readonly startedAt: number;
  /** ms since the load started. */
  now(): number;
  /** Every request sent so far, in order (answers fill in as they arrive). */
  outcomes(): readonly Outcome[];
  /** Stops sending; resolves with every outcome once the last answer (or timeout) is in. */
  stop(): Promise<Outcome[]>;
}

export interface LoadOptions {
  readonly urls: readonly string[];
  readonly perSecond: number;
  /** First X-Chaos-Id (ids are unique across the scenarios of one run). */
  readonly firstId: number;
  /** A request without an answer after this long is recorded as CLIENT_TIMEOUT. */
  readonly clientTimeoutMs?: number;
}

export function pathFor(kind: Kind, id: number, user: number): string {
  switch (kind) {
    case 'plain':
      return '/app/echo/plain';
    case 'hello':
      return '/app/hello';
    case 'users':
      return `/app/users/${user}`;
    case 'catalog':
      return '/app/catalog';
    case 'cached':
      // Eight URLs, each sent to both instances (id % 8 would tie each URL to one instance: ids alternate).
      return `/app/cacheable?max_age=1&sie=60&v=${Math.floor(id / KINDS.length) % 8}`;
    case 'toggle':
      return '/app/echo/toggle';
    case 'canaried':
      return '/app/status/200';
  }
}

const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'SOCKET_HANG_UP']);


export function startLoad(options: LoadOptions): LoadHandle {
  const agents = options.urls.map(() => new http.Agent({ keepAlive: true, maxSockets: 512 }));
  const timeoutMs = options.clientTimeoutMs ?? 15_000;
  const started = performance.now();
  const now = (): number => performance.now() - started;
  const outcomes: Outcome[] = [];
  const pending = new Set<Promise<void>>();
  let sent = 0;

  const attempt = (o: Outcome, instance: number): Promise<{ retryable: boolean }> =>
    new Promise((resolve) => {
      o.instance = instance;
      let settled = false;
      const finish = (retryable: boolean): void => {
        if (settled) return;
        settled = true;
        o.doneAt = now();
        resolve({ retryable });
      };
      const req = http.get(`${options.urls[instance]}${o.path}`, { agent: agents[instance], headers: { 'x-chaos-id': String(o.id), 'x-user-id': o.user } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () => {
          o.status = res.statusCode ?? 0;
          o.contentType = String(res.headers['content-type'] ?? '');
          o.backend = (res.headers['x-switchyard-backend'] as string | undefined) ?? null;
          o.cache = (res.headers['x-switchyard-cache'] as string | undefined) ?? null;
          o.error = o.status >= 400 ? problemCode(o.contentType, Buffer.concat(chunks)) : null;
          // A starting instance answers only its probes: nothing ran, so the balancer tries the other.
          finish(o.error === 'SWITCHYARD_STARTING');
        });
        res.once('error', (e: NodeJS.ErrnoException) => {
          o.status = null;
          o.error = `BODY_${e.code ?? 'ERROR'}`;
          finish(false);
        });
      });
      req.setTimeout(timeoutMs, () => {
        o.error = 'CLIENT_TIMEOUT';
        req.destroy();
        finish(false);
      });
      req.once('error', (e: NodeJS.ErrnoException) => {
        if (settled) return;
        o.error = e.code ?? (e.message === 'socket hang up' ? 'SOCKET_HANG_UP' : e.message);
        finish(RETRYABLE.has(o.error));
      });
    });

  const send = (id: number): void => {
    const kind = KINDS[id % KINDS.length]!;
    const user = (id * 7919) % USERS;
    const o: Outcome = { id, kind, path: pathFor(kind, id, user), user: `u${user}`, instance: 0, sentAt: now(), doneAt: 0, status: null, error: null, contentType: '', backend: null, cache: null, retried: false, firstError: null };
    outcomes.push(o);
    const first = id % options.urls.length;
    const p = attempt(o, first).then(async ({ retryable }) => {
      // nginx's proxy_next_upstream error: an idempotent request that got no response goes once to the next instance.
      if (retryable && options.urls.length > 1) {
        o.retried = true;
        o.firstError = o.error;
        o.error = null;
        await attempt(o, (first + 1) % options.urls.length);
      }
    });
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  let stopped = false;
  const timer = setInterval(() => {
    if (stopped) return;
    const due = Math.floor((now() / 1000) * options.perSecond);
    for (; sent < due; sent++) send(options.firstId + sent);
  }, 1);

  return {
    startedAt: started,
    now,
    outcomes: () => outcomes,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      while (pending.size > 0) await Promise.all([...pending]);
      for (const a of agents) a.destroy();
      return outcomes;
    },
  };
}

function problemCode(contentType: string, body: Buffer): string {
  if (!contentType.startsWith('application/problem+json')) return `HTTP_${contentType.split(';')[0] || 'no-type'}`;
  try {
    const code = (JSON.parse(body.toString('utf8')) as { code?: unknown }).code;
    return typeof code === 'string' ? code : 'PROBLEM_WITHOUT_CODE';
  } catch {
    return 'PROBLEM_NOT_JSON';
  }
}
