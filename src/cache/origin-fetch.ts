import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { UpstreamOverloadedError, UpstreamTimeoutError } from '../errors/switchyard-error.js';
import { toUpstreamFailure } from '../errors/upstream-failure.js';
import { forwardedRequestHeaders, removeHopByHop, stripPathPrefix } from '../proxy/forwarded-headers.js';
import type { ForwardTarget, UpstreamProxy } from '../proxy/upstream-proxy.js';

/** Request headers a cache fill must not pass on: it wants the full, storable representation. */
const CLIENT_ONLY = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range', 'content-length', 'transfer-encoding'];

/** Everything needed to ask legacy again later (a background refresh outlives the request). */
export interface OriginRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

/**
 * The request a cache fill sends: the client's headers as the proxy would forward them
 * (hop-by-hop removed, X-Forwarded-* set), minus its conditionals and Range, always GET.
 */
export function originRequestFor(req: IncomingMessage, target: ForwardTarget, upstreamHost: string, preserveHost: boolean): OriginRequest {
  const headers = forwardedRequestHeaders(req.headers, {
    clientIp: req.socket.remoteAddress ?? '',
    encrypted: 'encrypted' in req.socket && req.socket.encrypted === true,
    stripPrefix: target.stripPrefix,
    trustForwarded: target.trustForwarded,
  });
  for (const name of CLIENT_ONLY) delete headers[name];
  if (!preserveHost) headers.host = upstreamHost;
  return { path: stripPathPrefix(target.path, target.query, target.stripPrefix), headers };
}

/**
 * One GET to the upstream through the same connection pool, limiter and timeouts as proxied
 * requests, resolving with the response (headers in, body still streaming). Failures reject with
 * the same errors the proxy reports (502/503/504). The limiter slot is held until the body ends.
 */
export function fetchFromOrigin(proxy: UpstreamProxy, request: OriginRequest, conditionals: Readonly<Record<string, string>>, onInterim?: (status: number, headers: IncomingHttpHeaders) => void): Promise<IncomingMessage> {
  const config = proxy.config;
  const url = new URL(config.url);
  const basePath = url.pathname.replace(/\/+$/, '');
  return new Promise((resolve, reject) => {
    proxy.limiter.acquire(
      (release) => {
        const headers: IncomingHttpHeaders = { ...request.headers, ...conditionals };
        const client = url.protocol === 'https:' ? https : http;
        const outgoing = client.request({
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port,
          path: basePath + request.path,
          method: 'GET',
          headers,
          agent: proxy.agent,
        });
        const timers: NodeJS.Timeout[] = [];
        const clearTimers = (): void => timers.forEach((t) => clearTimeout(t));
        timers.push(setTimeout(() => outgoing.destroy(new UpstreamTimeoutError(config.name, 'response', config.responseTimeoutMs)), config.responseTimeoutMs));
        // Idle: no bytes for responseTimeoutMs, also after the headers (a backend stalling mid-body).
        outgoing.setTimeout(config.responseTimeoutMs, () => outgoing.destroy(new UpstreamTimeoutError(config.name, 'response', config.responseTimeoutMs)));
        outgoing.once('socket', (socket) => {
          if (!socket.connecting) return;
          const connectTimer = setTimeout(() => outgoing.destroy(new UpstreamTimeoutError(config.name, 'connect', config.connectTimeoutMs)), config.connectTimeoutMs);
          timers.push(connectTimer);
          socket.once('connect', () => clearTimeout(connectTimer));
        });
        // 1xx interim responses (103 Early Hints) are passed on, never stored.
        if (onInterim !== undefined) outgoing.on('information', (info) => onInterim(info.statusCode, info.headers));
        outgoing.once('response', (response) => {
          clearTimers();
          removeHopByHop(response.headers);
          response.once('end', release);
          response.once('close', release);
          resolve(response);
        });
        outgoing.once('error', (error) => {
          clearTimers();
          release();
          reject(toUpstreamFailure(config.name, error));
        });
        outgoing.end();
      },
      (why) => {
        const detail = why === 'queue_full' ? `${config.maxInFlight} requests in flight and ${config.maxQueue} queued` : `no free slot within ${config.queueTimeoutMs} ms`;
        reject(new UpstreamOverloadedError(config.name, detail, config.retryAfterSeconds));
      },
    );
  });
}
