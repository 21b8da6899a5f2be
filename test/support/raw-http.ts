/**
 * Raw HTTP/1.x over a socket, for what no client library sends: smuggling attempts, bare LFs,
 * pipelined requests, bytes a second. Everything is latin1, so each byte is one character.
 */
import net from 'node:net';

export interface RawConnection {
  readonly socket: net.Socket;
  write(bytes: string | Buffer): void;
  /** Everything read so far. */
  text(): string;
  /** Resolves when the server closed (or reset) the connection. */
  readonly closed: Promise<void>;
  isClosed(): boolean;
  /** Resolves true once `pattern` matches what was read, false after `ms`. */
  waitFor(pattern: RegExp, ms: number): Promise<boolean>;
}

export function openRaw(base: string, options: { localAddress?: string } = {}): Promise<RawConnection> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port: Number(url.port), host: url.hostname, ...options });
    let text = '';
    let closed = false;
    const waiters = new Set<() => void>();
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => {
      text += c;
      for (const w of waiters) w();
    });
    const closedPromise = new Promise<void>((done) =>
      socket.on('close', () => {
        closed = true;
        for (const w of waiters) w();
        done();
      }),
    );
    // A reset after a refusal is one of the allowed outcomes (a closed connection).
    socket.on('error', () => {});
    socket.once('connect', () =>
      resolve({
        socket,
        write: (bytes) => void (socket.destroyed ? undefined : socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes)),
        text: () => text,
        closed: closedPromise,
        isClosed: () => closed,
        waitFor: (pattern, ms) =>
          new Promise((done) => {
            const check = (): void => {
              if (pattern.test(text)) finish(true);
              else if (closed) finish(false);
            };
            const timer = setTimeout(() => finish(false), ms);
            const finish = (ok: boolean): void => {
              clearTimeout(timer);
              waiters.delete(check);
              done(ok);
            };
            waiters.add(check);
            check();
          }),
      }),
    );
    socket.once('error', reject);
  });
}

/** Writes `bytes`, then waits for the server to close the connection (at most `ms`); what was read. */
export async function exchange(base: string, bytes: string | Buffer, ms = 5_000): Promise<{ text: string; closed: boolean }> {
  const c = await openRaw(base);
  c.write(bytes);
  await Promise.race([c.closed, new Promise((r) => setTimeout(r, ms))]);
  const closed = c.isClosed();
  c.socket.destroy();
  return { text: c.text(), closed };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The responses in a byte stream, in order (Content-Length or chunked framing; a HEAD-less stream). */
export function parseResponses(text: string): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = text;
  while (rest.startsWith('HTTP/')) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) break;
    const [statusLine = '', ...lines] = rest.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const status = Number(statusLine.split(' ')[1]);
    rest = rest.slice(end + 4);
    let body = '';
    if (status === 100 || status === 103) {
      responses.push({ status, headers, body });
      continue;
    }
    if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const lineEnd = rest.indexOf('\r\n');
        const size = parseInt(rest.slice(0, lineEnd), 16);
        if (Number.isNaN(size)) return responses;
        body += rest.slice(lineEnd + 2, lineEnd + 2 + size);
        rest = rest.slice(lineEnd + 2 + size + 2);
        if (size === 0) break;
      }
    } else {
      const length = Number(headers['content-length'] ?? 0);
      body = rest.slice(0, length);
      rest = rest.slice(length);
    }
    responses.push({ status, headers, body });
  }
  return responses;
}
