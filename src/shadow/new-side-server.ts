import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import type { NewHandler } from '../server/switch-middleware.js';

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

  constructor(private readonly resolve: (routeName: string, method: string, path: string) => NewSideTarget | null) {}

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
      const target = this.resolve(route, req.method, req.path);
      if (target === null) return void res.status(404).end();
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
