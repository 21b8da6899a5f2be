/**
 * The four kinds of state Switchyard shares through Redis — response cache, shadow results,
 * runtime flag changes, outcomes — exercised through the real HTTP API of running instances, so
 * the same checks run on one server, a Sentinel set and a Cluster.
 */
import assert from 'node:assert/strict';
import type { NewHandler } from '../../src/server/switch-middleware.js';
import { flagsText, listen, captureLogger, type Listening } from './switchyard-harness.js';
import type { SwitchyardOptions } from '../../src/app.js';

export const ADMIN = 'shared-state-admin-token-0123456789';

export const sharedStateHandlers: Record<string, NewHandler> = {
  // Differs from Flask's /catalog in every field: each shadow comparison is a mismatch.
  catalog: (_req, res) => void res.json({ items: [], total: -1 }),
  user: (req, res) => void res.json({ id: Number(req.params['id']), side: 'new' }),
};

export function sharedStateFlags(flaskUrl: string, namespace: string): string {
  return `
upstreams:
  flask: { url: "${flaskUrl}" }
routes:
  - name: cached
    path: /c/*
    legacy: { upstream: flask, stripPrefix: /c }
    cache: {}
  - name: catalog
    path: /flask/catalog
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: catalog }
    mode: legacy
    shadow: { percentage: 100, noisePercentage: 0 }
  - name: users
    path: /flask/users/:id
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: user }
    mode: legacy
settings:
  cache: { namespace: ${namespace} }
  shadow: { namespace: ${namespace}, maxEventLoopUtilization: 1 }
`;
}

/** An instance on a loopback port with the four features on `redis` (a REDIS_URL-syntax URL). */
export function sharedStateInstance(flaskUrl: string, namespace: string, instance: string, extra: Partial<SwitchyardOptions>): Promise<Listening> {
  return listen({
    flags: flagsText(sharedStateFlags(flaskUrl, namespace)),
    handlers: sharedStateHandlers,
    adminToken: ADMIN,
    logger: captureLogger(),
    unleash: null,
    runtimeFlags: { namespace, backupDir: null, startupTimeoutMs: 5000 },
    outcomes: { instance, publishEveryMs: 100 },
    ...extra,
  });
}

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

/** A GET; the admin token only goes to /_switchyard (a request with Authorization is never cached). */
export async function get(sy: Listening, path: string): Promise<Reply> {
  const res = await fetch(`${sy.url}${path}`, path.startsWith('/_switchyard/') ? { headers: { authorization: `Bearer ${ADMIN}` } } : {});
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body };
}

export async function admin(sy: Listening, method: 'PUT' | 'POST' | 'DELETE', path: string, body: unknown): Promise<Reply> {
  const res = await fetch(`${sy.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** Polls `check` until it passes; fails the test with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${what}: not within ${timeoutMs} ms${last === undefined ? '' : ` (last error: ${last instanceof Error ? last.message : JSON.stringify(last)})`}`);
}

export const cacheStatus = (r: Reply): string | null => r.headers.get('x-switchyard-cache');

interface ShadowTotals {
  compared: number;
  mismatched: number;
}
export async function shadowTotals(sy: Listening, route: string): Promise<ShadowTotals> {
  const r = await get(sy, `/_switchyard/shadow/${route}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as ShadowTotals;
}

interface OutcomesView {
  scope: string;
  instances: number;
  sides: { legacy: { requests: number }; new: { requests: number } };
}
export async function outcomes(sy: Listening, route: string): Promise<OutcomesView> {
  const r = await get(sy, `/_switchyard/routes/${route}/outcomes?window=15m`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as OutcomesView;
}

/** The side a request to /flask/users/1 went to (the runtime override's effect). */
export async function usersSide(sy: Listening): Promise<string | null> {
  return (await fetch(`${sy.url}/flask/users/1`)).headers.get('x-switchyard-backend');
}
