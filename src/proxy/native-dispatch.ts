import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Dispatch } from './dispatch.js';
import { endToEndHeaders } from './forwarded-headers.js';
import { isStaleReuse } from './idle-sockets.js';

/**
 * The standalone handler's dispatch: node:http straight to the upstream's pool, no proxy library
 * in between (its per-request event plumbing was a measurable share of a proxied request; see the
 * README's benchmark notes). Behaves as the middleware dispatch does: hop-by-hop headers dropped
 * both ways, Node's own framing and Connection header for the client (so a client's
 * `Connection: close` is honoured), a backend dying mid-body cuts the response.
 */
export function createNativeDispatch(url: URL, agent: http.Agent): Dispatch {
  const transport = url.protocol === 'https:' ? https : http;
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? undefined : Number(url.port);
  return (req, res, exchange) => {
    const withBody = hasBody(req);
    const send = (retry: boolean): void => {
      // Headers as an object, not a flat [name, value, …] list (which Node takes without a setHeader
      // per header): OpenTelemetry's http instrumentation rewrites object headers only, and with a
      // list the upstream lost X-Forwarded-Prefix whenever the SDK ran (telemetry-otlp.test.ts).
      const request = transport.request({ agent, hostname, port, method: req.method, path: exchange.path, headers: exchange.headers as OutgoingHttpHeaders, setHost: false });
      exchange.started(request);
      // `on`: a request has one response (`once` would allocate a wrapper per request).
      request.on('response', (response) => {
        if (res.destroyed) return void response.destroy();
        // Node frames the body for this client (chunked, or close for HTTP/1.0) and says keep-alive/close itself.
        const headers: IncomingHttpHeaders = endToEndHeaders(response.headers, true);
        res.writeHead(response.statusCode ?? 502, response.statusMessage, headers as OutgoingHttpHeaders);
        response.on('error', () => res.destroy());
        response.pipe(res);
      });
      request.on('error', (error) => {
        // Once, on a fresh connection: the backend closed the pooled one as this request arrived.
        if (retry && !res.headersSent && !res.destroyed && isStaleReuse(request, error, withBody)) return send(false);
        exchange.fail(error);
      });
      // Most requests have no body: end the upstream request at once rather than set up a pipe.
      if (withBody) req.pipe(request);
      else request.end();
    };
    send(true);
  };
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
