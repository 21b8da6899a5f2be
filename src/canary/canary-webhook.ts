import type { Logger } from '../logging/logger.js';
import type { CanaryEvent } from './canary-run.js';

/** Where run events go besides the run itself: a webhook (or nothing). Never throws, never waits. */
export interface CanaryNotifier {
  notify(route: string, runId: string, event: CanaryEvent): void;
  /** Waits (bounded) for deliveries in flight. */
  close(): Promise<void>;
}

export interface WebhookOptions {
  readonly url: string;
  readonly retries: number;
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** Wait before retry n (1-based); default 250 ms × 2^(n−1). */
  readonly backoffMs?: (attempt: number) => number;
}

/**
 * POSTs each event as JSON (`{ type: "switchyard.canary.event", route, runId, event }`) and retries
 * a failure (network error, timeout, non-2xx) `retries` times with backoff. Fire-and-forget: the
 * run has moved on already; a webhook that stays down is logged, never in the way.
 */
export class WebhookNotifier implements CanaryNotifier {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: WebhookOptions) {}

  notify(route: string, runId: string, event: CanaryEvent): void {
    const body = JSON.stringify({ type: 'switchyard.canary.event', route, runId, event });
    const delivery = this.deliver(body, route, event.action).finally(() => this.inFlight.delete(delivery));
    this.inFlight.add(delivery);
  }

  private async deliver(body: string, route: string, action: string): Promise<void> {
    const backoff = this.options.backoffMs ?? ((n: number) => 250 * 2 ** (n - 1));
    let last = '';
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      // Not unref'd: a retry is bounded (retries × backoff) and must happen even in a quiet process.
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, backoff(attempt)));
      try {
        const res = await fetch(this.options.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(this.options.timeoutMs) });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return;
        last = `HTTP ${res.status}`;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
    }
    this.options.logger.warn(`canary webhook: ${route} ${action} not delivered after ${this.options.retries + 1} attempts (${last})`);
  }

  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, 3000)));
    await Promise.race([Promise.allSettled([...this.inFlight]), bound]);
    clearTimeout(timer);
  }
}
