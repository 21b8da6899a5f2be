import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { HTTP_SERVER_DEFAULTS } from '../config/defaults.js';
import { sendProblem } from '../errors/problem.js';
import { SwitchyardError } from '../errors/switchyard-error.js';

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** Read at each event, so a server bound before Switchyard is up can switch to it (the CLI does). */
export interface HttpListeners {
  request: Listener;
  /** Requests with `Expect: 100-continue`: the listener decides whether to send `100 Continue`. */
  checkContinue: Listener;
  clientError: (error: Error, socket: Duplex) => void;
}

export interface HttpServerTimeouts {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/**
 * The HTTP server Switchyard is served by (the CLI's; tests use the same): timeouts against slow
 * clients (see HTTP_SERVER_DEFAULTS), problem+json for what Node's parser refuses and for an
 * `Expect` it cannot meet, and `100 Continue` left to the request guard, which only sends it for
 * a body the route will take.
 */
export function createHttpServer(listeners: HttpListeners, timeouts: HttpServerTimeouts = HTTP_SERVER_DEFAULTS): http.Server {
  const server = http.createServer(
    {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      // Node only looks at the timeouts this often (30 s by default): a slowloris connection
      // would otherwise outlive headersTimeout by up to that much.
      connectionsCheckingInterval: Math.min(HTTP_SERVER_DEFAULTS.connectionsCheckingIntervalMs, timeouts.headersTimeoutMs),
      maxHeaderSize: HTTP_SERVER_DEFAULTS.maxHeaderBytes,
      // The request guard refuses a missing (or doubled) Host with problem+json, not Node's bare 400.
      requireHostHeader: false,
    },
    (req, res) => listeners.request(req, res),
  );
  server.keepAliveTimeout = HTTP_SERVER_DEFAULTS.keepAliveTimeoutMs;
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => listeners.checkContinue(req, res));
  server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
    sendProblem(res, new SwitchyardError('SWITCHYARD_EXPECTATION_FAILED', 'only `Expect: 100-continue` is supported', { status: 417 }), {}, { connection: 'close' });
  });
  server.on('clientError', (error: Error, socket: Duplex) => listeners.clientError(error, socket));
  return server;
}
