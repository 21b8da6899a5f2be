// `npm run demo`: the legacy Flask and Django example apps under gunicorn, and Switchyard in front
// of them on embedded defaults (flags from flags/, no Redis, no Unleash, no collector).
import http from 'node:http';
import { createSwitchyard } from '../src/index.js';
import { startDjango, startFlask, type LegacyServer } from '../test/support/legacy-apps.js';
import { handlers } from './new-handlers.js';

const PORT = Number(process.env['PORT'] ?? 8080);
const servers: LegacyServer[] = [];

async function main(): Promise<void> {
  // Ports match flags/upstreams.yaml.
  servers.push(await startFlask({ port: 8001, workers: 2, threads: 2 }));
  servers.push(await startDjango({ port: 8002, workers: 2 }));
  const switchyard = await createSwitchyard({ flagsDir: 'flags', handlers, useLegacy: process.env['USE_LEGACY'] === 'true' });
  for (const line of switchyard.mounts()) console.log(`  ${line}`);
  const server = http.createServer(switchyard.handler);
  server.on('clientError', switchyard.clientError);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(PORT, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${PORT}`;
  console.log(`
Switchyard demo is up (Ctrl-C to stop). Try:
  curl -i ${base}/flask/hello                      # new TypeScript handler (X-Switchyard-Backend: new)
  curl -i ${base}/flask/whoami                     # legacy Flask, URLs built under /flask
  curl -i ${base}/django/whoami/                   # legacy Django, side by side
  curl -i -H 'X-User-Id: alice' ${base}/flask/users/7   # 25% sticky rollout
  curl -i ${base}/health                           # new-only route
Edit flags/routes.yaml while it runs: changes apply live.`);
  const stop = (): void => {
    server.close();
    void switchyard.close().then(() => Promise.all(servers.map((s) => s.stop()))).then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch(async (error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  console.error('(the demo needs ports 8001, 8002 and 8080 — or PORT — free on 127.0.0.1)');
  await Promise.all(servers.map((s) => s.stop()));
  process.exit(1);
});
