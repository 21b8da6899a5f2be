import { setTimeout as delay } from 'node:timers/promises';
import type { CanaryRunView } from '../../src/canary/canary-run.js';
import type { AuditEntry } from '../../src/flags/runtime-store.js';

/**
 * Helpers for the autopilot proofs: bounded traffic with sticky user ids, the admin API, and
 * waiting for a run to reach a state.
 */
export interface Traffic {
  /** Requests sent so far. */
  readonly sent: () => number;
  /** Stops and waits for the requests in flight. */
  stop(): Promise<void>;
}

/**
 * `concurrency` loops GETting `path(i)` with `X-User-Id: u<n>` (n random in 1..10000), each
 * waiting `pauseMs` between requests; stops by itself after `maxRequests` or `maxMs`.
 */
export function startTraffic(base: string | (() => string), path: (i: number) => string, options: { concurrency?: number; pauseMs?: number; maxRequests?: number; maxMs?: number } = {}): Traffic {
  const { concurrency = 4, pauseMs = 0, maxRequests = 50_000, maxMs = 60_000 } = options;
  let sent = 0;
  let stopped = false;
  const deadline = Date.now() + maxMs;
  const loop = async (): Promise<void> => {
    while (!stopped && sent < maxRequests && Date.now() < deadline) {
      const i = sent++;
      const url = `${typeof base === 'string' ? base : base()}${path(i)}`;
      try {
        const res = await fetch(url, { headers: { 'x-user-id': `u${1 + Math.floor(Math.random() * 10_000)}` } });
        await res.arrayBuffer();
      } catch {
        // An instance being killed: the next request goes on.
      }
      if (pauseMs > 0) await delay(pauseMs);
    }
  };
  const loops = Array.from({ length: concurrency }, () => loop());
  return {
    sent: () => sent,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

export function adminClient(base: string, token: string) {
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; type: string; body: ReturnType<typeof JSON.parse> }> => {
    const res = await fetch(`${base}/_switchyard${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: text === '' ? null : JSON.parse(text) };
  };
  return {
    call,
    run: async (route: string): Promise<CanaryRunView | null> => {
      const res = await call('GET', `/canary/${route}`);
      return res.status === 200 ? (res.body as CanaryRunView) : null;
    },
    control: (route: string, control: string, body: Record<string, unknown>) => call('POST', `/canary/${route}/${control}`, body),
    /** The flags audit log's entries for one route, oldest first. */
    audit: async (route: string): Promise<AuditEntry[]> => ((await call('GET', '/flags/audit')).body as { entries: AuditEntry[] }).entries.filter((e) => e.target === `route:${route}`),
  };
}

/** Polls `read` until `done` holds for it; throws with the last value (and `describe`) after `timeoutMs`. */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, describe: (value: T) => string = (v) => JSON.stringify(v)): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms; last: ${describe(last)}`);
    await delay(50);
    last = await read();
  }
  return last;
}

/** The run's story in one line per event, for failure messages. */
export function story(run: CanaryRunView | null): string {
  if (run === null) return '(no run)';
  const events = run.events.map((e) => `${e.action}(${e.from.percentage}→${e.to.percentage}) ${e.reason}`);
  const last = run.evaluations.at(-1);
  return `${run.status} at ${run.setPercentage}% [${run.stage.kind} ${run.stage.index}]\n  ${events.join('\n  ')}\n  last evaluation: ${last?.explanation ?? 'none'}`;
}

/**
 * flags/ text of the canary tests: Flask's GET /users/:id on legacy, the `user` handler on new, at
 * `mode: legacy` with the given canary policy (YAML lines, any indentation), then `extraRoutes` and
 * `settings.canary`.
 */
export function usersCanaryFlags(flaskUrl: string, policy: string, settingsCanary: string, extraRoutes = ''): string {
  const lines = policy.trim().split('\n').map((l) => `      ${l.trim()}`).join('\n');
  return `
upstreams:
  flask: { url: "${flaskUrl}" }
routes:
  - name: users
    path: /users/:id
    methods: [GET]
    legacy: { upstream: flask }
    new: { handler: user }
    mode: legacy
    canary:
${lines}
${extraRoutes}settings:
  canary: ${settingsCanary}
`;
}
