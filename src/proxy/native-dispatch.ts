import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Dispatch } from './dispatch.js';
import { endToEndHeaders } from './forwarded-headers.js';

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
    const request = transport.request({ agent, hostname, port, method: req.method, path: exchange.path, headers: headerList(exchange.headers), setHost: false });
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
    request.on('error', exchange.fail);
    // Most requests have no body: end the upstream request at once rather than set up a pipe.
    if (hasBody(req)) req.pipe(request);
    else request.end();
  };
}

/**
 * The headers as a flat `[name, value, …]` list. Given an object, ClientRequest copies it header by
 * header through `setHeader` (a validation, a lowercase and an entry array each); a list goes
 * straight to the serialiser, which validates names and values just the same. Nothing touches the
 * upstream request's headers after it is created (Expect, the one header Node would, is never
 * forwarded). A multi-valued header becomes repeated lines, as Node writes an array value.
 */
function headerList(headers: IncomingHttpHeaders): string[] {
  const list: string[] = [];
  for (const name in headers) {
    const value = headers[name];
    if (typeof value === 'string') list.push(name, value);
    else if (value !== undefined) for (const one of value) list.push(name, one);
  }
  return list;
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
