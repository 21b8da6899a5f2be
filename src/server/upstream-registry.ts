import type { UpstreamConfig } from '../config/types.js';
import type { Logger } from '../logging/logger.js';
import { UpstreamClient } from '../proxy/upstream-client.js';

/**
 * Keeps one client per upstream across reloads: an unchanged upstream keeps its pool and its
 * in-flight count (so a reload never lets more than `maxInFlight` through); a changed or removed
 * one is retired once its in-flight requests finish, so no request is dropped.
 */
export class UpstreamRegistry {
  private proxies = new Map<string, UpstreamClient>();

  constructor(private readonly logger: Logger) {}

  /** Returns the proxies for `upstreams`, reusing identical ones; call `commit` when adopted. */
  prepare(upstreams: Readonly<Record<string, UpstreamConfig>>): Map<string, UpstreamClient> {
    const next = new Map<string, UpstreamClient>();
    for (const [name, config] of Object.entries(upstreams)) {
      const existing = this.proxies.get(name);
      if (existing && sameUpstream(existing.config, config)) {
        next.set(name, existing);
        continue;
      }
      // Same name, new settings: a new pool, but the same limiter (resized on commit), so the
      // requests still in flight on the old pool count against the new limits.
      next.set(name, new UpstreamClient(config, this.logger, existing === undefined ? {} : { limiter: existing.limiter }));
    }
    return next;
  }

  commit(next: Map<string, UpstreamClient>): void {
    for (const [name, proxy] of this.proxies) if (next.get(name) !== proxy) proxy.retire();
    for (const proxy of next.values()) proxy.limiter.resize(proxy.config);
    this.proxies = next;
  }

  /** Proxies built by `prepare` but never committed (a reload that failed later) are retired. */
  discard(next: Map<string, UpstreamClient>): void {
    for (const [name, proxy] of next) if (this.proxies.get(name) !== proxy) proxy.retire();
  }

  /** In-flight and queued counts of the upstreams in force, for metrics and the admin API. */
  *load(): Iterable<{ name: string; inFlight: number; queued: number }> {
    for (const [name, proxy] of this.proxies) yield { name, inFlight: proxy.limiter.inFlight, queued: proxy.limiter.queued };
  }

  closeAll(): void {
    for (const proxy of this.proxies.values()) proxy.retire();
    this.proxies = new Map();
  }
}

function sameUpstream(a: UpstreamConfig, b: UpstreamConfig): boolean {
  const { file: _a, ...restA } = a;
  const { file: _b, ...restB } = b;
  return JSON.stringify(restA) === JSON.stringify(restB);
}
