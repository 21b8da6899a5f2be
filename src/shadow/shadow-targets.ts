import type { IncomingHttpHeaders } from 'node:http';
import type { FlagsConfig, ProxiedSide, RouteConfig, Side } from '../config/types.js';
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
    private readonly config: () => FlagsConfig,
    private readonly newSide: NewSideServer,
  ) {}

  async call(
    side: Side,
    route: RouteConfig,
    request: { method: string; path: string; query: string; headers: IncomingHttpHeaders; clientIp: string; body: Buffer | null },
    limits: { timeoutMs: number; maxCompareBytes: number },
  ): Promise<ComparableResponse> {
    const settings = this.config().settings;
    const proxied = (s: ProxiedSide) => {
      const upstream = this.config().upstreams[s.upstream];
      if (upstream === undefined) throw new Error(`upstream \`${s.upstream}\` is not configured`);
      const headers = forwardedRequestHeaders(request.headers, { clientIp: request.clientIp, encrypted: false, stripPrefix: s.stripPrefix, trustForwarded: settings.trustForwardedHeaders });
      if (!upstream.preserveHost) headers.host = new URL(upstream.url).host;
      return { caller: this.caller(upstream.url), target: stripPathPrefix(request.path, request.query, s.stripPrefix), headers };
    };
    let call: { caller: SideCaller; target: string; headers: IncomingHttpHeaders };
    if (side === 'legacy') {
      if (route.legacy === null) throw new Error('the route has no legacy side');
      call = proxied(route.legacy);
    } else if (route.new === null) {
      throw new Error('the route has no new side');
    } else if (route.new.kind === 'upstream') {
      call = proxied(route.new);
    } else {
      const headers = forwardedRequestHeaders(request.headers, { clientIp: request.clientIp, encrypted: false, stripPrefix: '', trustForwarded: settings.trustForwardedHeaders });
      headers[SHADOW_ROUTE_HEADER] = route.name;
      headers[SHADOW_SECRET_HEADER] = this.newSide.secret;
      call = { caller: this.caller(await this.newSide.baseUrl()), target: request.path + request.query, headers };
    }
    return call.caller.call({ method: request.method, target: call.target, headers: call.headers, body: request.body, ...limits });
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
