import express, { type Response } from 'express';
import type { UiSession } from '../ui/ui-session.js';
import type { SessionEnd, UiSessions } from '../ui/ui-sessions.js';
import type { AdminSection } from './admin-api.js';
import { principalOf } from './admin-auth.js';

export interface EventsView {
  /** What changed lately, small: the page re-reads the endpoints whose part moved. */
  snapshot(): Record<string, unknown>;
  /** Subscribes to changes worth telling at once (flags, rules); returns the unsubscribe. */
  onChange(listener: () => void): () => void;
  /** True once the process drains: streams end (the page reconnects, to another instance). */
  draining(): boolean;
  /** Dashboard sessions: a stream opened with a session cookie ends with the session. */
  readonly sessions: Pick<UiSessions, 'ended' | 'onRevoke'> | null;
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
 *
 * A stream opened with a dashboard session lives no longer than the session: a sign-out taken by
 * this process ends it at once; each beat checks the session's expiry and the sign-outs of the
 * other instances (Redis), so a cookie refused everywhere else cannot keep reading here. Either
 * way the stream says so first (`event: session-ended`, data `{"reason":"signed-out"|"expired"}`)
 * and the page goes back to its sign-in.
 */
export function eventsSection(view: EventsView, everyMs = 2000): EventsSection {
  const router = express.Router();
  const open = new Map<Response, () => void>();
  router.get('/', (req, res) => {
    const session = principalOf(res)?.session;
    res.status(200).set({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no', connection: 'keep-alive' });
    res.flushHeaders();
    let id = 0;
    const finish = (): void => {
      stop();
      if (!res.writableEnded) res.end();
    };
    const endSession = (reason: SessionEnd): void => {
      if (res.writableEnded) return;
      res.write(`event: session-ended\ndata: ${JSON.stringify({ reason })}\n\n`);
      finish();
    };
    const send = (): void => {
      if (res.writableEnded) return;
      if (view.draining()) return finish();
      res.write(`id: ${++id}\nevent: update\ndata: ${JSON.stringify({ at: new Date().toISOString(), ...view.snapshot() })}\n\n`);
    };
    // One check at a time: a slow Redis must not pile them up, one per beat.
    let checking = false;
    const beat = (): void => {
      if (session === undefined || view.sessions === null) return send();
      if (checking) return;
      checking = true;
      void checkSession(view.sessions, session)
        .then((ended) => (ended === null ? send() : endSession(ended)))
        .finally(() => {
          checking = false;
        });
    };
    res.write('retry: 2000\n\n');
    // Filled in once the first beat went out (a draining process ends the stream at it).
    const hooks: { timer?: NodeJS.Timeout; unsubscribe?: () => void; unwatch?: () => void } = {};
    const stop = (): void => {
      clearInterval(hooks.timer);
      hooks.unsubscribe?.();
      hooks.unwatch?.();
      open.delete(res);
    };
    open.set(res, stop);
    req.on('close', stop);
    send();
    if (res.writableEnded) return;
    hooks.timer = setInterval(beat, everyMs);
    hooks.unsubscribe = view.onChange(send);
    if (session !== undefined) hooks.unwatch = view.sessions?.onRevoke((revoked) => (revoked === session.id ? endSession('signed-out') : undefined));
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

/** null while the session lives; a store that cannot answer keeps the stream (the next beat asks again). */
async function checkSession(sessions: Pick<UiSessions, 'ended'>, session: UiSession): Promise<SessionEnd | null> {
  try {
    return await sessions.ended(session);
  } catch {
    return null;
  }
}
