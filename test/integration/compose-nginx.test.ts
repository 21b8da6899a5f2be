import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { handlers } from '../../examples/new-handlers.js';
import { silentLogger } from '../../src/logging/logger.js';
import { eventually } from '../support/cli-process.js';
import { freePort, startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { flagsText, listen, type Listening } from '../support/switchyard-harness.js';

// The compose file's load balancer config, run by Debian's nginx in front of two real Switchyard
// instances: only the server addresses and the listen port are rewritten for this machine.
let flask: LegacyServer;
let instances: Listening[] = [];
let dir: string;
let lb = '';
let nginxArgs: string[] = [];

const FLAGS = (url: string) => `
upstreams:
  flask: { url: "${url}" }
routes:
  - { name: app, path: /flask/*, legacy: { upstream: flask, stripPrefix: /flask } }
settings: { trustForwardedHeaders: true }
`;

before(async () => {
  flask = await startFlask({ workers: 2 });
  instances = [await listen({ flags: flagsText(FLAGS(flask.url)), handlers, logger: silentLogger }), await listen({ flags: flagsText(FLAGS(flask.url)), handlers, logger: silentLogger })];
  dir = mkdtempSync(path.join(tmpdir(), 'switchyard-nginx-'));
  const port = await freePort();
  const addresses = instances.map((i) => new URL(i.url).host);
  const server = readFileSync('examples/compose/nginx.conf', 'utf8')
    .replace('switchyard-1:8080', addresses[0]!)
    .replace('switchyard-2:8080', addresses[1]!)
    .replace(/listen 8080;/, `listen 127.0.0.1:${port};`);
  writeFileSync(path.join(dir, 'server.conf'), server);
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `worker_processes 1;\n${process.getuid?.() === 0 ? 'user root;' : ''}\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents { worker_connections 256; }\n` +
      `http {\n  access_log off;\n  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;\n  include ${dir}/server.conf;\n}\n`,
  );
  nginxArgs = ['-p', dir, '-c', path.join(dir, 'nginx.conf')];
  const started = spawnSync('/usr/sbin/nginx', nginxArgs, { encoding: 'utf8' });
  assert.equal(started.status, 0, `nginx did not start (needs Debian's nginx: apt-get install -y nginx): ${started.stderr}`);
  lb = `http://127.0.0.1:${port}`;
  assert.ok(await eventually(async () => (await fetch(`${lb}/lb-health`).catch(() => null))?.ok === true));
});
after(async () => {
  if (nginxArgs.length > 0) spawnSync('/usr/sbin/nginx', [...nginxArgs, '-s', 'quit']);
  for (const i of instances) await i.close().catch(() => {});
  await flask?.stop();
  await new Promise((r) => setTimeout(r, 200));
  rmSync(dir, { recursive: true, force: true });
});

describe('examples/compose/nginx.conf in front of two Switchyard instances', () => {
  it('balances requests over both, answers its own health check, keeps /_switchyard/metrics off the balanced address', async () => {
    assert.equal(await (await fetch(`${lb}/lb-health`)).text(), 'ok\n');
    for (let i = 0; i < 10; i++) assert.equal((await fetch(`${lb}/flask/hello`)).status, 200);
    const served = instances.map((i) => i.switchyard.stats.snapshot().routes['app']?.legacy ?? 0);
    assert.ok(served.every((n) => n >= 3), `both instances served: ${served.join(', ')}`);
    assert.equal((await fetch(`${lb}/_switchyard/metrics`)).status, 404);
    assert.equal((await fetch(`${lb}/_switchyard/readyz`)).status, 200);
  });

  it('sets X-Forwarded-* itself (a client cannot forge them), so trusting them behind it is safe', async () => {
    const echo = (await (await fetch(`${lb}/flask/echo`, { headers: { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-host': 'evil.example' } })).json()) as { headers: Record<string, string> };
    // The client's forged hop is gone: nginx's view of the client, then nginx itself (added by Switchyard).
    assert.equal(echo.headers['x-forwarded-for'], '127.0.0.1, 127.0.0.1');
    assert.equal(echo.headers['x-forwarded-host'], new URL(lb).host);
  });

  it('an instance that is gone: requests go to the other one, none fails', async () => {
    await instances[1]!.close();
    const statuses = await Promise.all(Array.from({ length: 8 }, () => fetch(`${lb}/flask/hello`).then((r) => r.status)));
    assert.deepEqual(statuses, Array<number>(8).fill(200));
  });
});
