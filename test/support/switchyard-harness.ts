import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSwitchyard, type Switchyard, type SwitchyardOptions } from '../../src/app.js';
import type { Logger } from '../../src/logging/logger.js';
import { createHttpServer, type HttpServerTimeouts } from '../../src/server/http-server.js';

/** A logger that keeps every line, so tests can assert what operators would read. */
export function captureLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(`${level}: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
  };
  return { lines, debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

export interface Listening {
  readonly switchyard: Switchyard;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Runs Switchyard on a real loopback port (for concurrency tests that supertest cannot express),
 * on the CLI's server (its timeouts, 100-continue and parser-error handling): `switchyard.handler`
 * (what the CLI serves, node:http dispatch) or `switchyard.app` (the Express path,
 * http-proxy-middleware dispatch), which must behave alike. `port` 0: a free one; another: a
 * restart on the port an earlier instance had.
 */
export async function listen(options: SwitchyardOptions, via: 'handler' | 'app' = 'handler', timeouts?: HttpServerTimeouts, port = 0): Promise<Listening> {
  const switchyard = await createSwitchyard({ watch: false, ...options });
  const request = via === 'handler' ? switchyard.handler : switchyard.app;
  // The Express path gets `100 Continue` at once, as a plain Node server would send it.
  const checkContinue = via === 'handler' ? switchyard.checkContinue : (req: IncomingMessage, res: ServerResponse) => (res.writeContinue(), request(req, res));
  const server = createHttpServer({ request, checkContinue, clientError: switchyard.clientError }, timeouts);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
  } catch (error) {
    await switchyard.close();
    throw error;
  }
  const bound = (server.address() as AddressInfo).port;
  return {
    switchyard,
    url: `http://127.0.0.1:${bound}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await switchyard.close();
    },
  };
}

/** `{ file, text }` for inline flags. */
export const flagsText = (text: string, file = 'test-flags.yaml') => [{ file, text }];
