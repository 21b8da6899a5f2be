import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import type { NewHandler } from '../server/switch-middleware.js';

/** Names the pending call (see `expect`), not a route: the call runs what was routed, whatever reloads since. */
export const SHADOW_ROUTE_HEADER = 'x-switchyard-shadow-route';
export const SHADOW_SECRET_HEADER = 'x-switchyard-shadow-secret';

export interface NewSideTarget {
  readonly handler: NewHandler;
  readonly params: Record<string, string>;
}

/**
 * Runs new handlers for shadow (and noise) calls through a private loopback server, so a
 * handler gets a real Express request and response exactly as for users, without a byte of it
 * reaching a user. Started on first use; calls carry a per-process secret.
 */
export class NewSideServer {
  private server: http.Server | undefined;
  private url: Promise<string> | undefined;
  readonly secret = randomBytes(24).toString('hex');
  private readonly pending = new Map<string, NewSideTarget>();
  private next = 0;

  /** Registers the handler and params one call will run; the id goes in SHADOW_ROUTE_HEADER. Forget it with `settle`. */
  expect(target: NewSideTarget): string {
    const id = String(++this.next);
    this.pending.set(id, target);
    return id;
  }

  settle(id: string): void {
    this.pending.delete(id);
  }

  baseUrl(): Promise<string> {
    this.url ??= this.start();
    return this.url;
  }

  private async start(): Promise<string> {
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    app.use((req: Request, res: Response, next) => {
      const route = req.headers[SHADOW_ROUTE_HEADER];
      if (req.headers[SHADOW_SECRET_HEADER] !== this.secret || typeof route !== 'string') return void res.status(403).end();
      delete req.headers[SHADOW_SECRET_HEADER];
      delete req.headers[SHADOW_ROUTE_HEADER];
      const target = this.pending.get(route);
      this.pending.delete(route);
      if (target === undefined) return void res.status(404).end();
      req.params = target.params;
      try {
        const result = target.handler(req, res, next);
        if (result instanceof Promise) result.catch(next);
      } catch (error) {
        next(error);
      }
    });
    app.use((_error: unknown, _req: Request, res: Response, _next: unknown) => void res.status(500).json({ error: 'handler failed' }));
    const server = http.createServer(app);
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
