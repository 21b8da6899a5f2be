import type { IncomingHttpHeaders } from 'node:http';
import type { NewSide, ProxiedSide, Side } from '../config/types.js';
import type { RoutedRequest } from '../pipeline/routed-request.js';
import type { NewHandler } from '../server/switch-middleware.js';
import { forwardedRequestHeaders, stripPathPrefix } from '../proxy/forwarded-headers.js';
import { NewSideServer, SHADOW_ROUTE_HEADER, SHADOW_SECRET_HEADER } from './new-side-server.js';
import type { ComparableResponse } from './response-diff.js';
import type { SideTargets } from './shadow-mirror.js';
import { SideCaller } from './side-caller.js';

/**
 * Where shadow and noise calls go: legacy and new upstreams over HTTP exactly as the proxy would
 * send them (prefix stripped, forwarded headers set), new handlers through the private
 * NewSideServer. One small pool per target, separate from the users' pools.
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
    const settings = config.settings;
    const forwarding = (stripPrefix: string) => ({ clientIp: routed.clientAddress, encrypted: routed.tls, stripPrefix, trustForwarded: settings.trustForwardedHeaders });
    const proxied = (s: ProxiedSide) => {
      const upstream = config.upstreams[s.upstream];
      if (upstream === undefined) throw new Error(`upstream \`${s.upstream}\` is not configured`);
      const headers = forwardedRequestHeaders(request.headers, forwarding(s.stripPrefix));
      if (!upstream.preserveHost) headers.host = new URL(upstream.url).host;
      return { caller: this.caller(upstream.url), target: stripPathPrefix(path, query, s.stripPrefix), headers };
    };
    const target: NewSide | null = side === 'legacy' ? (route.legacy === null ? null : { kind: 'upstream', ...route.legacy }) : route.new;
    if (target === null) throw new Error(`the route has no ${side} side`);
    if (target.kind === 'handler') {
      const handler = this.handlers.get(target.handler);
      if (handler === undefined) throw new Error(`no handler named \`${target.handler}\` is registered`);
      const headers = forwardedRequestHeaders(request.headers, forwarding(''));
      const id = this.newSide.expect({ handler, params: routed.params });
      headers[SHADOW_ROUTE_HEADER] = id;
      headers[SHADOW_SECRET_HEADER] = this.newSide.secret;
      try {
        return await this.caller(await this.newSide.baseUrl()).call({ method: routed.method, target: path + query, headers, body: request.body, ...limits });
      } finally {
        this.newSide.settle(id);
      }
    }
    const call = proxied(target);
    return call.caller.call({ method: routed.method, target: call.target, headers: call.headers, body: request.body, ...limits });
  }

  private caller(url: string): SideCaller {
    let caller = this.callers.get(url);
    if (caller === undefined) this.callers.set(url, (caller = new SideCaller(url)));
    return caller;
  }

  close(): void {
    for (const caller of this.callers.values()) caller.close();
    this.callers.clear();
  }
}
