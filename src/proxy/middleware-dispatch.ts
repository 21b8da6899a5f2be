import type http from 'node:http';
import type { IncomingMessage } from 'node:http';
import { createProxyMiddleware, type RequestHandler } from 'http-proxy-middleware';
import type { UpstreamConfig } from '../config/types.js';
import type { Dispatch, Exchange } from './dispatch.js';
import { removeHopByHop } from './forwarded-headers.js';
import { forwardInterim } from './interim-response.js';
import { armTimers } from './upstream-timers.js';

/**
 * The only module that talks to http-proxy-middleware: the dispatch of the embeddable Express
 * `middleware` (one proxy per upstream, over the upstream client's pool). What to send, the
 * error mapping come from the upstream client through the exchange; the timers are armTimers'.
 */
export function createMiddlewareDispatch(config: UpstreamConfig, agent: http.Agent): Dispatch {
  const exchanges = new WeakMap<IncomingMessage, Exchange>();
  const proxy: RequestHandler = createProxyMiddleware({
    target: config.url,
    changeOrigin: !config.preserveHost,
    agent,
    xfwd: false,
    ejectPlugins: true,
    plugins: [
      (server) => {
        server.on('proxyReq', (proxyReq, req, res) => {
          const exchange = exchanges.get(req);
          if (exchange === undefined) return;
          // Emitted from the request's 'socket' event, before its headers are written (the agent
          // never queues, so the socket comes at once): the path can still be set byte-exact —
          // http-proxy's own join collapses `//` and rewrites `http:/`.
          proxyReq.path = exchange.path;
          armTimers(proxyReq, config);
          proxyReq.on('information', (info) => forwardInterim(res, info.statusCode, info.headers));
          exchange.started(proxyReq);
        });
        server.on('proxyRes', (proxyRes, _req, res) => {
          removeHopByHop(proxyRes.headers);
          // http-proxy fills an absent Connection from the forwarded request (which has none: it
          // is hop-by-hop), i.e. `keep-alive`, and an explicit keep-alive makes Node keep the
          // socket open even after a client's `Connection: close` (RFC 9112 §9.6). State what
          // Node decided for this client connection instead.
          proxyRes.headers.connection = res.shouldKeepAlive ? 'keep-alive' : 'close';
          // A backend that dies mid-body must cut this response, not crash the process.
          proxyRes.on('error', () => res.destroy());
        });
        server.on('error', (error, req) => exchanges.get(req)?.fail(error));
        server.on('econnreset', (_error, req) => exchanges.delete(req));
      },
    ],
  });
  return (req, res, exchange) => {
    exchanges.set(req, exchange);
    req.url = exchange.path;
    req.headers = exchange.headers;
    void proxy(req, res, (error?: unknown) => {
      if (error !== undefined) exchange.fail(error);
    });
  };
}
