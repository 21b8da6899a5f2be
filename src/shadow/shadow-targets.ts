import type { IncomingHttpHeaders } from 'node:http';
import type { NewSide, Side, UpstreamConfig } from '../config/types.js';
import type { RoutedRequest } from '../pipeline/routed-request.js';
import type { NewHandler } from '../server/switch-middleware.js';
import { silentLogger } from '../logging/logger.js';
import { UpstreamClient } from '../proxy/upstream-client.js';
import { NewSideServer, SHADOW_ROUTE_HEADER, SHADOW_SECRET_HEADER } from './new-side-server.js';
import type { ComparableResponse } from './response-diff.js';
import type { SideTargets } from './shadow-mirror.js';
import { SideCaller } from './side-caller.js';

/**
 * Where shadow and noise calls go: legacy and new upstreams through an UpstreamClient each, so they
 * are sent exactly as the proxy sends them (prefix stripped, forwarded headers set), new handlers
 * through the private NewSideServer. One small pool per target, separate from the users' pools.
 */
export class ShadowTargets implements SideTargets {
  private readonly callers = new Map<string, SideCaller>();

  constructor(
    private readonly newSide: NewSideServer,
    private readonly handlers: ReadonlyMap<string, NewHandler>,
  ) {}

  async call(side: Side, routed: RoutedRequest, request: { headers: IncomingHttpHeaders; body: Buffer | null }, limits: { timeoutMs: number; maxCompareBytes: number }): Promise<ComparableResponse> {
    // The snapshot the request was routed under: a reload since then does not change where its shadow goes.
    const { config, route, path, query } = routed;
    const client = { address: routed.clientAddress, tls: routed.tls };
    const forwardTarget = (stripPrefix: string) => ({ route: route.name, path, query, stripPrefix, trustForwarded: config.settings.trustForwardedHeaders });
    const target: NewSide | null = side === 'legacy' ? (route.legacy === null ? null : { kind: 'upstream', ...route.legacy }) : route.new;
    if (target === null) throw new Error(`the route has no ${side} side`);
    if (target.kind === 'handler') {
      const handler = this.handlers.get(target.handler);
      if (handler === undefined) throw new Error(`no handler named \`${target.handler}\` is registered`);
      const caller = await this.internalCaller();
      const prepared = caller.upstream.prepare(request.headers, forwardTarget(''), client);
      const id = this.newSide.expect({ handler, params: routed.params });
      prepared.headers[SHADOW_ROUTE_HEADER] = id;
      prepared.headers[SHADOW_SECRET_HEADER] = this.newSide.secret;
      try {
        return await caller.call({ method: routed.method, target: prepared.target, headers: prepared.headers, body: request.body, ...limits });
      } finally {
        this.newSide.settle(id);
      }
    }
    const upstream = config.upstreams[target.upstream];
    if (upstream === undefined) throw new Error(`upstream \`${target.upstream}\` is not configured`);
    // The upstream's own header rules (prefix, X-Forwarded-*, Host), exactly as the proxy sends them.
    const caller = this.caller(upstream);
    const prepared = caller.upstream.prepare(request.headers, forwardTarget(target.stripPrefix), client);
    return caller.call({ method: routed.method, target: prepared.target, headers: prepared.headers, body: request.body, ...limits });
  }

  /** One unlimited client per upstream as configured (a changed upstream gets a new one). */
  private caller(upstream: UpstreamConfig): SideCaller {
    const { file: _file, ...settings } = upstream;
    const key = JSON.stringify(settings);
    let caller = this.callers.get(key);
    if (caller === undefined) this.callers.set(key, (caller = new SideCaller(new UpstreamClient(upstream, silentLogger, { unlimited: true }))));
    return caller;
  }

  private async internalCaller(): Promise<SideCaller> {
    const url = await this.newSide.baseUrl();
    let caller = this.callers.get(url);
    if (caller === undefined) this.callers.set(url, (caller = SideCaller.internal(url)));
    return caller;
  }

  close(): void {
    for (const caller of this.callers.values()) caller.close();
    this.callers.clear();
  }
}
