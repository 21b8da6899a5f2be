/**
 * An open-loop load: requests are sent on a fixed schedule (so many per second), whatever the
 * server's pace — a slow answer cannot hold later requests back and hide its own cost (no
 * coordinated omission). Latency runs from the moment a request is written; the schedule is
 * checked every millisecond.
 * wrk is closed-loop: it saturates the server, which is the right test for throughput, but a
 * saturated server is not how a team runs shadow traffic; this shows latency at a steady rate.
 */
import http from 'node:http';

export interface OpenLoopResult {
  readonly rps: number;
  readonly p50ms: number;
  readonly p99ms: number;
  readonly requests: number;
  readonly problems: string[];
}

const TICK_MS = 1;

export async function openLoop(url: string, perSecond: number, seconds: number): Promise<OpenLoopResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  const pending = new Set<Promise<void>>();
  const started = performance.now();
  const total = Math.round(perSecond * seconds);
  let sent = 0;

  const send = (): void => {
    const sentAt = performance.now();
    const p = new Promise<void>((resolve) => {
      const req = http.get(url, { agent }, (res) => {
        res.resume();
        res.once('end', () => {
          latencies.push(performance.now() - sentAt);
          if ((res.statusCode ?? 0) >= 400) non2xx++;
          resolve();
        });
      });
      req.once('error', () => {
        errors++;
        resolve();
      });
    });
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      // Everything due by now goes out.
      const dueCount = Math.min(total, Math.floor(((performance.now() - started) / 1000) * perSecond));
      for (; sent < dueCount; sent++) send();
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  await Promise.all([...pending]);
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();

  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  const problems = [...(errors > 0 ? [`${errors} socket errors`] : []), ...(non2xx > 0 ? [`${non2xx} non-2xx/3xx responses`] : [])];
  return { rps: latencies.length / elapsed, p50ms: at(0.5), p99ms: at(0.99), requests: latencies.length, problems };
}
