import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/** A started upstream request, as far as the upstream client needs it: what cancels it. */
export interface StartedCall {
  destroy(): void;
}

/**
 * One proxied exchange as the upstream client hands it to a dispatch: what to send (the exact
 * request target, the forwarded headers) and the client's hooks every dispatch must call. The
 * client owns the slot, the span and the error mapping; a dispatch moves bytes and runs the
 * upstream's timers its own way (armTimers for node:http, undici's for undici).
 */
export interface Exchange {
  /** The exact request target to send: the upstream's base path, the prefix-stripped path, the query. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /**
   * Headers to add to the client's response head (flat `[name, value, …]`), unless the upstream
   * sent one of the same name; empty when they are already set on the response.
   */
  readonly responseHeaders: readonly string[];
  /** The upstream request exists: what cancels it when the client goes away. */
  started(call: StartedCall): void;
  /** The call failed (before or after the response started). A function property, so a dispatch can pass it as a listener. */
  readonly fail: (error: unknown) => void;
}

/** Moves one request to the upstream and its response back (cf. undici's `dispatch`). */
export type Dispatch = (req: IncomingMessage, res: ServerResponse, exchange: Exchange) => void;

/** A dispatch with its own connection pool, closed when its upstream is retired. */
export interface NativeDispatch {
  readonly dispatch: Dispatch;
  close(): Promise<void>;
}
