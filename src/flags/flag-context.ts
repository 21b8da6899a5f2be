import type { IncomingHttpHeaders } from 'node:http';
import type { FlagContextSettings, RouteConfig, Settings, StickinessSource } from '../config/types.js';
import { stickinessValue } from '../routing/stickiness.js';

/**
 * The evaluation context a flag provider sees (Unleash's context, OpenFeature's evaluation
 * context): filled from the request by the same header/cookie extraction the rollouts use.
 */
export interface FlagContext {
  /** The route's stickiness value (its rollout.stickiness, else settings.stickiness); absent when the request has none. */
  readonly userId?: string;
  readonly sessionId?: string;
  readonly remoteAddress?: string;
  /** Always `path` (normalised), `method` and `route`; plus `settings.flagContext.properties`. */
  readonly properties: Readonly<Record<string, string>>;
}

export interface FlagRequest {
  readonly headers: IncomingHttpHeaders;
  readonly method: string;
  /** The normalised path the route matched. */
  readonly path: string;
  /** The peer address of the connection. */
  readonly socketAddress: string | undefined;
}

const NONE = (): string => '';

/** First configured value present, or undefined (never a random one: Unleash applies its own stickiness fallback). */
function firstValue(headers: IncomingHttpHeaders, sources: readonly StickinessSource[]): string | undefined {
  if (sources.length === 0) return undefined;
  const value = stickinessValue(headers, sources, NONE);
  return value === '' ? undefined : value;
}

/** The client's address: the first X-Forwarded-For hop when forwarded headers are trusted, else the peer. */
export function clientAddress(headers: IncomingHttpHeaders, socketAddress: string | undefined, trustForwarded: boolean): string | undefined {
  if (trustForwarded) {
    const forwarded = headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first !== undefined && first !== '') return first;
  }
  if (socketAddress === undefined) return undefined;
  return socketAddress.startsWith('::ffff:') ? socketAddress.slice(7) : socketAddress;
}

export function flagContextOf(req: FlagRequest, route: RouteConfig, settings: Pick<Settings, 'stickiness' | 'trustForwardedHeaders'> & { readonly flagContext: FlagContextSettings }): FlagContext {
  const stickiness = route.rollout.stickiness.length > 0 ? route.rollout.stickiness : settings.stickiness;
  const properties: Record<string, string> = { path: req.path, method: req.method, route: route.name };
  for (const [name, source] of Object.entries(settings.flagContext.properties)) {
    const value = firstValue(req.headers, [source]);
    if (value !== undefined) properties[name] = value;
  }
  const context: { userId?: string; sessionId?: string; remoteAddress?: string; properties: Record<string, string> } = { properties };
  const userId = firstValue(req.headers, stickiness);
  if (userId !== undefined) context.userId = userId;
  const sessionId = firstValue(req.headers, settings.flagContext.sessionId);
  if (sessionId !== undefined) context.sessionId = sessionId;
  const remoteAddress = clientAddress(req.headers, req.socketAddress, settings.trustForwardedHeaders);
  if (remoteAddress !== undefined) context.remoteAddress = remoteAddress;
  return context;
}
