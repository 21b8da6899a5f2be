import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logging/logger.js';
import { ResponseTap } from './response-tap.js';
import type { RequestObserver, ResponseOutcome, RoutedExchange, RoutedRequest } from './routed-request.js';

const CACHE_HEADER = 'x-switchyard-cache';

/**
 * The observers registered in the composition root, notified in order. One listener on the
 * response's 'close' (which follows 'finish' for a completed response, and also fires for an
 * aborted one) builds the outcome for all of them.
 */
export class RequestObservers {
  private readonly list: RequestObserver[] = [];
  private readonly wantsResponse: RequestObserver[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {}

  add(observer: RequestObserver): this {
    this.list.push(observer);
    if (observer.onResponse !== undefined) this.wantsResponse.push(observer);
    return this;
  }

  names(): string[] {
    return this.list.map((o) => o.name);
  }

  /** Tells every observer the request is routed, then arranges for `onResponse`. */
  routed(routed: RoutedRequest, req: IncomingMessage, res: ServerResponse): void {
    const exchange = new Exchange(req, res);
    for (const observer of this.list) {
      if (observer.onRouted === undefined) continue;
      try {
        observer.onRouted(routed, exchange);
      } catch (error) {
        this.failed(observer, 'onRouted', error);
      }
    }
    if (this.wantsResponse.length === 0) return;
    // 'close' fires once per response: `on` spares the wrapper `once` allocates per request.
    res.on('close', () => {
      const cache = res.getHeader(CACHE_HEADER);
      const outcome: ResponseOutcome = {
        side: routed.decision.side,
        status: res.headersSent ? res.statusCode : 0,
        durationMs: this.now() - routed.startedAt,
        cache: typeof cache === 'string' ? cache : null,
        completed: res.writableFinished,
      };
      for (const observer of this.wantsResponse) {
        try {
          observer.onResponse?.(routed, outcome);
        } catch (error) {
          this.failed(observer, 'onResponse', error);
        }
      }
    });
  }

  private failed(observer: RequestObserver, hook: string, error: unknown): void {
    this.logger.error(`request observer \`${observer.name}\` failed in ${hook}`, { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
}

/** The live exchange observers get; its response tap exists only once an observer asks for it. */
class Exchange implements RoutedExchange {
  private responseTap: ResponseTap | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {}

  get tap(): ResponseTap {
    return (this.responseTap ??= new ResponseTap(this.res));
  }
}
