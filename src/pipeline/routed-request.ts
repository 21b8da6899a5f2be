import type { IncomingHttpHeaders } from 'node:http';
import type { FlagsConfig, RouteConfig, Side } from '../config/types.js';
import type { RoutingDecision } from '../routing/routing-decision.js';

/**
 * One routed request, built once by the switch and handed to every observer: the configuration
 * snapshot it was decided under, the route, the decision, and the request as routed. The legacy
 * layers (cache, proxy) get the same snapshot's route, upstream client and target from the switch
 * rather than this object. Nothing downstream re-reads the current configuration or re-matches the
 * route table, so a reload between routing and shadowing (or recording) cannot mix two snapshots.
 *
 * `headers` are the client's, not the forwarded set: X-Forwarded-* and the hop-by-hop removal
 * depend on the side and upstream a request goes to (the upstream client builds them at dispatch,
 * for the proxy, a cache fill and a shadow call alike), and building them here would cost every
 * new-side request for nothing.
 */
export interface RoutedRequest {
  /** The whole configuration in force when the request was routed. */
  readonly config: FlagsConfig;
  readonly route: RouteConfig;
  readonly decision: RoutingDecision;
  /** Where the decision's mode came from: `file`, `unleash`, `runtime`… */
  readonly flagSource: string;
  readonly method: string;
  /** Normalised path (no query) and the raw query with its `?`, or ''. */
  readonly path: string;
  readonly query: string;
  /** Path parameters of the matched route pattern (`/users/:id` → `{ id }`). */
  readonly params: Readonly<Record<string, string>>;
  /** The client's headers after routing removed Switchyard's own (override token, shadow marker); a frozen copy. */
  readonly headers: Readonly<IncomingHttpHeaders>;
  readonly clientAddress: string;
  readonly tls: boolean;
  /** The request's stickiness value (computed once, shared by the rollout and shadow sampling). */
  readonly stickinessValue: () => string;
  /** `performance.now()` when routing started. */
  readonly startedAt: number;
}

/** How a routed request ended, as the client saw it. */
export interface ResponseOutcome {
  readonly side: Side;
  /** Status sent (0 when the connection closed before any was). */
  readonly status: number;
  /** From routing to the response's end (or the connection's close), ms. */
  readonly durationMs: number;
  /** The cache's `X-Switchyard-Cache` verdict, or null when the cache was not involved. */
  readonly cache: string | null;
  /** False when the connection closed before the response finished. */
  readonly completed: boolean;
}

/**
 * Something that watches the request path: stats, telemetry, the shadow mirror, the outcome
 * recorder, a canary controller. `onRouted` runs synchronously once the decision is made and
 * before the request is dispatched (a span or a response tap set up there covers the whole
 * exchange); `onResponse` once the response has ended. Observers must not throw (a throw is
 * logged and the request goes on) and must not delay the client.
 */
export interface RequestObserver {
  readonly name: string;
  onRouted?(routed: RoutedRequest, exchange: RoutedExchange): void;
  onResponse?(routed: RoutedRequest, outcome: ResponseOutcome): void;
}

/** The live exchange, for observers that need the Node objects (the shadow mirror copies bytes). */
export interface RoutedExchange {
  readonly req: import('node:http').IncomingMessage;
  readonly res: import('node:http').ServerResponse;
  readonly tap: import('./response-tap.js').ResponseTap;
}
