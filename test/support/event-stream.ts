import assert from 'node:assert/strict';

/** An open `/_switchyard/events` stream, read as text. */
export interface EventStream {
  readonly status: number;
  readonly contentType: string | null;
  /** Everything read so far. */
  text(): string;
  /** Reads until `want` matches what was read from offset `from` on (rejects if the stream ends first). */
  readUntil(want: RegExp, from?: number): Promise<string>;
  /** Reads until the server ends the stream; everything read. */
  ended(): Promise<string>;
  /** Aborts the request (idempotent): for `finally`. */
  close(): void;
}

/**
 * Opens an event stream with `headers` (a session cookie). A guard aborts the request after
 * `guardMs` whatever happens, so a stream the server never ends fails the test instead of hanging it
 * (an abort rejects any read in progress); `close()` in a `finally` releases it at once.
 */
export async function openEventStream(url: string, headers: Record<string, string>, guardMs = 30_000): Promise<EventStream> {
  const controller = new AbortController();
  const guard = setTimeout(() => controller.abort(new Error(`the event stream ${url} was still open after ${guardMs} ms`)), guardMs);
  const close = (): void => {
    clearTimeout(guard);
    controller.abort();
  };
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: controller.signal });
  } catch (error) {
    close();
    throw error;
  }
  if (res.body === null) {
    close();
    assert.fail(`no body from ${url}`);
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let done = false;
  const more = async (): Promise<void> => {
    const chunk = await reader.read();
    if (chunk.done) done = true;
    else text += decoder.decode(chunk.value, { stream: true });
  };
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    text: () => text,
    readUntil: async (want, from = 0) => {
      while (!want.test(text.slice(from))) {
        if (done) assert.fail(`the event stream ended before ${String(want)}; it sent: ${text}`);
        await more();
      }
      return text;
    },
    ended: async () => {
      while (!done) await more();
      clearTimeout(guard);
      return text;
    },
    close,
  };
}
