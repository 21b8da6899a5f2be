import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { headersAsWritten, type WriteHeadHeaders } from './headers-as-written.js';

export type BodyListener = (chunk: Buffer) => void;

/**
 * The one place that watches what a response writes. `res.writeHead`/`res.write`/`res.end` are
 * wrapped only once a body listener asks for the bytes (the shadow mirror's copy), so a request
 * nobody inspects pays nothing; every listener sees every chunk exactly once, in order, without
 * delaying a write, and the head is kept as it went out (`writtenHeaders`).
 */
export class ResponseTap {
  private listeners: BodyListener[] | null = null;
  private head: OutgoingHttpHeaders | null = null;

  constructor(private readonly res: ServerResponse) {}

  onBody(listener: BodyListener): void {
    if (this.listeners === null) {
      this.listeners = [];
      this.wrap();
    }
    this.listeners.push(listener);
  }

  /**
   * The headers the client got. `res.getHeaders()` is not that: a dispatch that writes the head
   * as one list (Node's fast path) leaves nothing stored on the response.
   */
  writtenHeaders(): OutgoingHttpHeaders {
    return this.head ?? this.res.getHeaders();
  }

  private wrap(): void {
    const res = this.res;
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    const take = (chunk: unknown, encoding: unknown): void => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
      const buf = Buffer.isBuffer(chunk) ? chunk : typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : Buffer.from(chunk as Uint8Array);
      for (const listener of this.listeners ?? []) listener(buf);
    };
    // Every head goes through writeHead, the implicit one of a bare `res.end()` included.
    res.writeHead = ((status: number, ...rest: unknown[]) => {
      const given: WriteHeadHeaders = (typeof rest[0] === 'string' ? rest[1] : rest[0]) as WriteHeadHeaders;
      const before = res.getHeaders();
      const result = writeHead(status, ...rest);
      this.head = headersAsWritten(before, given);
      return result;
    });
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      take(chunk, rest[0]);
      return write(chunk, ...rest);
    }) as ServerResponse['write'];
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      take(chunk, rest[0]);
      return end(chunk, ...rest);
    }) as ServerResponse['end'];
  }
}
