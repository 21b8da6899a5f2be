import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { UpstreamConfig } from '../config/types.js';
import { SwitchyardError } from '../errors/switchyard-error.js';
import { silentLogger } from '../logging/logger.js';
import { UpstreamClient } from '../proxy/upstream-client.js';
import type { ComparableResponse } from './response-diff.js';

export class ShadowTimeoutError extends SwitchyardError {
  constructor(ms: number) {
    super('SWITCHYARD_SHADOW_TIMEOUT', `shadow call did not finish within ${ms} ms`, { status: 504 });
  }
}

export interface SideCall {
  readonly method: string;
  /** Path and query, exactly as the target should receive them (see UpstreamClient.prepare). */
  readonly target: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer | null;
  readonly timeoutMs: number;
  /** Bytes kept for comparison; beyond them only a hash of the whole body is kept. */
  readonly maxCompareBytes: number;
}

/**
 * One HTTP call for the shadow machinery (to a legacy upstream, a new upstream, or the internal
 * new-handler server), through an unlimited UpstreamClient of its own: the same header rules,
 * timers and error mapping as user traffic, but never the users' pool or limiter — shadow
 * traffic must not take slots from real users. Bounded in time and memory.
 */
export class SideCaller {
  constructor(private readonly client: UpstreamClient) {}

  /** A caller for Switchyard's own loopback server (the new-handler shadow target). */
  static internal(baseUrl: string): SideCaller {
    const config: UpstreamConfig = { name: 'new-side', url: baseUrl, maxInFlight: Infinity, maxQueue: 0, queueTimeoutMs: 0, connectTimeoutMs: 5_000, responseTimeoutMs: 60_000, keepAlive: true, preserveHost: true, retryAfterSeconds: 0, file: '<internal>' };
    return new SideCaller(new UpstreamClient(config, silentLogger, { unlimited: true }));
  }

  get upstream(): UpstreamClient {
    return this.client;
  }

  call(c: SideCall): Promise<ComparableResponse> {
    const abort = new AbortController();
    return new Promise<ComparableResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new ShadowTimeoutError(c.timeoutMs));
        abort.abort();
      }, c.timeoutMs);
      const failed = (error: unknown): void => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      };
      this.client.request({ method: c.method, target: c.target, headers: c.headers, body: c.body, signal: abort.signal }).then((res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        const hash = createHash('sha256');
        let overflow = false;
        res.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          if (kept + chunk.length <= c.maxCompareBytes) {
            chunks.push(chunk);
            kept += chunk.length;
          } else overflow = true;
        });
        res.on('error', failed);
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            headers: flattenHeaders(res.headers),
            body: Buffer.concat(chunks),
            ...(overflow ? { bodyHash: hash.digest('hex') } : {}),
          });
        });
      }, failed);
    });
  }

  close(): void {
    this.client.retire();
  }
}

export function flattenHeaders(headers: IncomingHttpHeaders | OutgoingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}
