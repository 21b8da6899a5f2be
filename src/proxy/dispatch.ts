import type { ClientRequest, IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/**
 * One proxied exchange as the upstream client hands it to a dispatch: what to send (the exact
 * request target, the forwarded headers) and the client's hooks every dispatch must call. The
 * client owns the slot, the span, the timers and the error mapping; a dispatch only moves bytes.
 */
export interface Exchange {
  /** The exact request target to send: the upstream's base path, the prefix-stripped path, the query. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The upstream request exists (its socket assigned or coming): timers, 1xx, client-abort cancel. */
  started(request: ClientRequest): void;
  /** The call failed (before or after the response started). A function property, so a dispatch can pass it as a listener. */
  readonly fail: (error: unknown) => void;
}

/** Moves one request to the upstream and its response back (cf. undici's `dispatch`). */
export type Dispatch = (req: IncomingMessage, res: ServerResponse, exchange: Exchange) => void;
