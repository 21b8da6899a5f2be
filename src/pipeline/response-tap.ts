import type { ServerResponse } from 'node:http';

export type BodyListener = (chunk: Buffer) => void;

/**
 * The one place that watches what a response writes. `res.write`/`res.end` are wrapped only once a
 * body listener asks for the bytes (the shadow mirror's copy), so a request nobody inspects pays
 * nothing; every listener sees every chunk exactly once, in order, without delaying a write.
 */
export class ResponseTap {
  private listeners: BodyListener[] | null = null;

  constructor(private readonly res: ServerResponse) {}

  onBody(listener: BodyListener): void {
    if (this.listeners === null) {
      this.listeners = [];
      this.wrap();
    }
    this.listeners.push(listener);
  }

  private wrap(): void {
    const res = this.res;
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    const take = (chunk: unknown, encoding: unknown): void => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
      const buf = Buffer.isBuffer(chunk) ? chunk : typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : Buffer.from(chunk as Uint8Array);
      for (const listener of this.listeners ?? []) listener(buf);
    };
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
