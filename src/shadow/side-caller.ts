import { createHash } from 'node:crypto';
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { SwitchyardError } from '../errors/switchyard-error.js';
import { IDLE_SOCKET_MS } from '../proxy/idle-sockets.js';
import type { ComparableResponse } from './response-diff.js';

export class ShadowTimeoutError extends SwitchyardError {
  constructor(ms: number) {
    super('SWITCHYARD_SHADOW_TIMEOUT', `shadow call did not finish within ${ms} ms`, { status: 504 });
  }
}

export interface SideCall {
  readonly method: string;
  /** Path and query, exactly as the target should receive them. */
  readonly target: string;
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer | null;
  readonly timeoutMs: number;
  /** Bytes kept for comparison; beyond them only a hash of the whole body is kept. */
  readonly maxCompareBytes: number;
}

/**
 * One HTTP call for the shadow machinery (to a legacy upstream, a new upstream, or the internal
 * new-handler server). Its own pool, never the primary's limiter: shadow traffic must not take
 * slots from real users. Bounded in time and memory.
 */
export class SideCaller {
  private readonly agent: http.Agent;
  private readonly base: URL;

  constructor(baseUrl: string) {
    this.base = new URL(baseUrl);
    // Idle connections closed before the backend closes them (see IDLE_SOCKET_MS): no reuse race.
    const options = { keepAlive: true, maxFreeSockets: 8, timeout: IDLE_SOCKET_MS };
    this.agent = this.base.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
  }

  call(c: SideCall): Promise<ComparableResponse> {
    return new Promise((resolve, reject) => {
      const basePath = this.base.pathname.replace(/\/+$/, '');
      const request = (this.base.protocol === 'https:' ? https : http).request({
        agent: this.agent,
        protocol: this.base.protocol,
        hostname: this.base.hostname,
        port: this.base.port,
        method: c.method,
        path: basePath + c.target,
        headers: c.headers,
      });
      const timer = setTimeout(() => request.destroy(new ShadowTimeoutError(c.timeoutMs)), c.timeoutMs);
      request.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      request.on('response', (res) => {
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
        res.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            headers: flattenHeaders(res.headers),
            body: Buffer.concat(chunks),
            ...(overflow ? { bodyHash: hash.digest('hex') } : {}),
          });
        });
      });
      request.end(c.body ?? undefined);
    });
  }

  close(): void {
    this.agent.destroy();
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
