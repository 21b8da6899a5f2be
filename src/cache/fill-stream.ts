import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { CacheContext } from './cache-context.js';
import type { CacheRequest } from './cache-request.js';
import { CACHE_HEADER, clientHasIt, notModifiedHeaders } from './cache-responses.js';
import type { CacheStatus } from './cache-stats.js';

/** Keeping a copy of a streamed response: within `limit` bytes it is stored before the response ends. */
export interface Capture {
  readonly limit: number;
  overflow(): void;
  complete(chunks: Buffer[]): Promise<void>;
  abort(): void;
}

/**
 * Sends legacy's response to the client as it arrives (or a 304 when the client already has
 * it), optionally keeping a copy while it stays within `capture.limit` (then stored before the
 * response ends). While copying, the client's pace does not hold legacy up (the copy is in memory
 * anyway); once the response is too large to keep, backpressure applies and nothing is buffered
 * beyond the socket's own. `c` is null for a background refresh (nobody to send to).
 */
export function streamThrough(ctx: CacheContext, c: CacheRequest | null, response: IncomingMessage, status: number, headers: IncomingHttpHeaders, capture: Capture | null, label: CacheStatus = 'MISS'): Promise<void> {
  const res = c?.res ?? null;
  let sending = false;
  if (c !== null && res !== null) {
    ctx.stats.count(c.route, label);
    const out: OutgoingHttpHeaders = { ...headers, [CACHE_HEADER]: label };
    delete out['transfer-encoding'];
    if (!res.destroyed && !res.headersSent) {
      if (status === 200 && clientHasIt(c.req.headers, out)) {
        res.writeHead(304, notModifiedHeaders(out));
        res.end();
      } else {
        res.writeHead(status, out);
        if (c.req.method === 'HEAD') res.end();
        else sending = true;
      }
    }
  }
  return new Promise<void>((resolve) => {
    let chunks: Buffer[] | null = capture === null ? null : [];
    let size = 0;
    let ended = false;
    let completing = false;
    let held: Buffer | null = null;
    const useless = (): boolean => !sending && chunks === null;
    response.on('data', (chunk: Buffer) => {
      if (chunks !== null) {
        size += chunk.length;
        if (size > (capture?.limit ?? 0)) {
          chunks = null;
          capture?.overflow();
        } else chunks.push(chunk);
      }
      if (sending && res !== null) {
        // While the copy may still be stored, the latest chunk is held back: with Content-Length
        // framing a client has the whole response once its last byte arrives, and that must not
        // happen before the entry is written (another instance would miss it).
        const outgoing: Buffer[] = held === null ? [] : [held];
        held = null;
        if (chunks !== null) held = chunk;
        else outgoing.push(chunk);
        let flowing = true;
        for (const part of outgoing) flowing = res.write(part) && flowing;
        if (!flowing && chunks === null) {
          response.pause();
          res.once('drain', () => response.resume());
        }
      } else if (useless()) response.destroy();
    });
    response.once('end', () => {
      ended = true;
      if (chunks === null || capture === null) {
        if (sending) res?.end();
        return;
      }
      // The entry is written (within the store's operation timeout) before the response ends:
      // once a client has it, every instance sharing the store can answer from it.
      completing = true;
      void capture
        .complete(chunks)
        .catch(() => {
          // Writes never throw (writeQuietly); a bug here must still end the response.
        })
        .finally(() => {
          if (sending) res?.end(held ?? undefined);
          resolve();
        });
    });
    response.on('error', () => {
      // 'close' follows and handles it.
    });
    response.once('close', () => {
      if (!ended) {
        if (sending) res?.destroy();
        capture?.abort();
      }
      if (!completing) resolve();
    });
    res?.once('close', () => {
      if (res.writableFinished) return;
      sending = false;
      if (useless()) response.destroy();
      else response.resume();
    });
  });
}
