import supertest from 'supertest';
import { createSwitchyard, type Switchyard, type SwitchyardOptions } from '../app.js';
import { silentLogger } from '../logging/logger.js';

export interface TestClient {
  /** A supertest agent over the Switchyard app: `await client.agent.get('/flask/hello')`. */
  readonly agent: ReturnType<typeof supertest>;
  readonly switchyard: Switchyard;
  close(): Promise<void>;
}

/**
 * The seed's test client, for Switchyard users: builds the app from your flags and handlers
 * (no file watching, logs silent unless you pass a logger) and wraps it in supertest.
 */
export async function createTestClient(options: SwitchyardOptions): Promise<TestClient> {
  const switchyard = await createSwitchyard({ watch: false, logger: silentLogger, ...options });
  return { agent: supertest(switchyard.handler), switchyard, close: () => switchyard.close() };
}
