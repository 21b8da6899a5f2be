/** Helpers for the flag integration tests: ask a running Switchyard which side each user gets. */
import { inRollout, rolloutBucket } from '../../src/flags/bucketing.js';

export type Side = 'legacy' | 'new';

/** GETs `path` once per user (X-User-Id), a few at a time; returns user → X-Switchyard-Backend. Fails on any non-2xx. */
export async function sidesFor(baseUrl: string, path: string, users: readonly string[], concurrency = 8): Promise<Map<string, Side>> {
  const result = new Map<string, Side>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < users.length) {
      const user = users[next++]!;
      const res = await fetch(`${baseUrl}${path}`, { headers: { 'x-user-id': user } });
      await res.arrayBuffer();
      const side = res.headers.get('x-switchyard-backend');
      if (!res.ok || (side !== 'legacy' && side !== 'new')) throw new Error(`GET ${path} as ${user}: ${res.status}, backend ${side}`);
      result.set(user, side);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return result;
}

/** What Unleash's flexibleRollout (userId stickiness) and Switchyard's local bucketing pick. */
export function expectedSides(users: readonly string[], groupId: string, percentage: number): Map<string, Side> {
  return new Map(users.map((u) => [u, inRollout(rolloutBucket(groupId, u), percentage) ? 'new' : 'legacy']));
}

/** Users whose side differs between two maps (empty when they agree). */
export function disagreements(actual: ReadonlyMap<string, Side>, expected: ReadonlyMap<string, Side>): string[] {
  return [...expected].filter(([u, side]) => actual.get(u) !== side).map(([u, side]) => `${u}: expected ${side}, got ${actual.get(u)}`);
}

/** Polls `check` every 10 ms; resolves to the elapsed ms when it holds, rejects after `timeoutMs`. */
export async function within(timeoutMs: number, check: () => boolean | Promise<boolean>, what = 'condition'): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return Math.round(performance.now() - started);
    if (performance.now() - started > timeoutMs) throw new Error(`${what}: not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
