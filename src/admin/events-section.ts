import express, { type Response } from 'express';
import type { AdminSection } from './admin-api.js';

export interface EventsView {
  /** What changed lately, small: the page re-reads the endpoints whose part moved. */
  snapshot(): Record<string, unknown>;
  /** Subscribes to changes worth telling at once (flags, rules); returns the unsubscribe. */
  onChange(listener: () => void): () => void;
  /** True once the process drains: streams end (the page reconnects, to another instance). */
  draining(): boolean;
}

export interface EventsSection extends AdminSection {
  /** Ends every open stream (at shutdown, so the server can close). */
  closeAll(): void;
}

/**
 * GET /_switchyard/events — Server-Sent Events for the dashboard and scripts: an `update` event
 * with the snapshot at once, on every change, and every `everyMs` (a heartbeat that also moves
 * the charts). `retry:` tells EventSource to reconnect after 2 s when the stream breaks. A
 * draining process ends its streams at the next beat, so an open dashboard never holds up a
 * graceful stop (the server's close waits for every connection).
 */
export function eventsSection(view: EventsView, everyMs = 2000): EventsSection {
  const router = express.Router();
  const open = new Map<Response, () => void>();
  router.get('/', (req, res) => {
    res.status(200).set({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no', connection: 'keep-alive' });
    res.flushHeaders();
    let id = 0;
    const send = (): void => {
      if (res.writableEnded) return;
      if (view.draining()) {
        stop();
        res.end();
        return;
      }
      res.write(`id: ${++id}\nevent: update\ndata: ${JSON.stringify({ at: new Date().toISOString(), ...view.snapshot() })}\n\n`);
    };
    res.write('retry: 2000\n\n');
    // Filled in once the first beat went out (a draining process ends the stream at it).
    const beat: { timer?: NodeJS.Timeout; unsubscribe?: () => void } = {};
    const stop = (): void => {
      clearInterval(beat.timer);
      beat.unsubscribe?.();
      open.delete(res);
    };
    open.set(res, stop);
    req.on('close', stop);
    send();
    if (res.writableEnded) return;
    beat.timer = setInterval(send, everyMs);
    beat.unsubscribe = view.onChange(send);
  });
  return {
    name: 'events',
    router,
    closeAll: () => {
      for (const [res, stop] of [...open]) {
        stop();
        res.end();
      }
    },
  };
}
