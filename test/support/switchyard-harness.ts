import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSwitchyard, type Switchyard, type SwitchyardOptions } from '../../src/app.js';
import type { Logger } from '../../src/logging/logger.js';

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
 * Runs Switchyard on a real loopback port (for concurrency tests that supertest cannot express):
 * `switchyard.handler` (what the CLI serves, node:http dispatch) or `switchyard.app` (the Express
 * path, http-proxy-middleware dispatch), which must behave alike.
 */
export async function listen(options: SwitchyardOptions, via: 'handler' | 'app' = 'handler'): Promise<Listening> {
  const switchyard = await createSwitchyard({ watch: false, ...options });
  const server = http.createServer(via === 'handler' ? switchyard.handler : switchyard.app);
  server.on('clientError', switchyard.clientError); // as the CLI does
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    switchyard,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await switchyard.close();
    },
  };
}

/** `{ file, text }` for inline flags. */
export const flagsText = (text: string, file = 'test-flags.yaml') => [{ file, text }];
