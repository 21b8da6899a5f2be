import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, eventually } from '../support/cli-process.js';
import { freePort } from '../support/legacy-apps.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-parse.js';

// The real `npm run demo` (examples/demo.ts) on the shipped flags/routes.yaml; only the legacy
// ports move to free ones, so the test never collides with a demo someone is running.
let dir: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'switchyard-demo-test-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function demoFlags(): Promise<{ flagsDir: string; flaskPort: number; djangoPort: number }> {
  const flagsDir = await mkdtemp(path.join(dir, 'flags-'));
  const [flaskPort, djangoPort] = [await freePort(), await freePort()];
  await copyFile(path.join(ROOT, 'flags/routes.yaml'), path.join(flagsDir, 'routes.yaml'));
  await writeFile(path.join(flagsDir, 'upstreams.yaml'), `upstreams:\n  flask: { url: "http://127.0.0.1:${flaskPort}", maxInFlight: 4 }\n  django: { url: "http://127.0.0.1:${djangoPort}", maxInFlight: 2 }\n`);
  return { flagsDir, flaskPort, djangoPort };
}

function startDemo(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'examples/demo.ts'), ...args], { cwd: ROOT, env: { ...process.env, REDIS_URL: '', SWITCHYARD_ADMIN_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { stdout: () => stdout, stderr: () => stderr, exited, stop: () => void child.kill('SIGINT') };
}

const refused = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(false)));
    socket.on('error', () => resolve(true));
  });

describe('npm run demo', () => {
  it('shows a migrated route, a sticky rollout, a shadow diff with real and noisy fields, a cached slow endpoint, the admin API and traffic', async () => {
    const { flagsDir, flaskPort, djangoPort } = await demoFlags();
    const demo = startDemo(['--flags', flagsDir, '--port', '0']);
    try {
      let base = '';
      assert.ok(await eventually(() => ((base = /Switchyard demo is up at (http:\/\/127\.0\.0\.1:\d+)/.exec(demo.stdout())?.[1] ?? ''), base !== ''), 60_000), demo.stdout() + demo.stderr());
      const out = demo.stdout();
      // The admin token: generated, printed once, and it works.
      const token = /\/_switchyard\/ui\/#token=(\S+)/.exec(out)?.[1] ?? '';
      assert.ok(token.length >= 16, out);
      assert.equal(out.split(token).length - 1, 1, 'the token is printed exactly once');
      assert.ok(!demo.stderr().includes(token), 'and never logged');
      const auth = { authorization: `Bearer ${token}` };
      assert.equal((await fetch(`${base}/_switchyard/flags`)).status, 401);
      assert.equal((await fetch(`${base}/_switchyard/flags`, { headers: auth })).status, 200);
      // The dashboard it points at is built and served.
      const page = await fetch(`${base}/_switchyard/ui/`);
      assert.equal(page.status, 200, 'the dashboard is built (npm run demo builds it)');
      assert.match(await page.text(), /assets\/app\.js/);
      // Its own Redis on a free port (never the shared 6379), and the traffic generator on.
      const redisPort = Number(/stores: +Redis — a private redis-server on 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
      assert.ok(redisPort > 0 && redisPort !== 6379, out);
      assert.match(out, /traffic: +~5 requests\/s/);
      for (const url of ['/flask/hello', '/flask/users/7', '/flask/report', '/flask/catalog', '/_switchyard/shadow/catalog', '/_switchyard/metrics', '/django/whoami/']) assert.ok(out.includes(`${base}${url}`), url);
      // The changes it suggests would be accepted: each one says why (the admin API requires it).
      const changes = out.split('\n').filter((line) => /curl .*-X (PUT|POST|DELETE) .*\/_switchyard\//.test(line));
      assert.ok(changes.length >= 2, out);
      for (const line of changes) assert.match(line, /"reason":"[^"]+"/, line);

      // Migrated.
      assert.equal((await fetch(`${base}/flask/hello`)).headers.get('x-switchyard-backend'), 'new');
      // Sticky rollout: a user keeps a side; across users both sides serve.
      const side = async (user: string) => (await fetch(`${base}/flask/users/7`, { headers: { 'x-user-id': user } })).headers.get('x-switchyard-backend');
      const sides = await Promise.all(Array.from({ length: 24 }, (_, i) => side(`u${i}`)));
      assert.ok(sides.includes('new') && sides.includes('legacy'), sides.join());
      assert.deepEqual(await Promise.all(Array.from({ length: 24 }, (_, i) => side(`u${i}`))), sides);
      // Cached slow legacy report: the first call waits for the build, the next is a HIT at once.
      let t = Date.now();
      const first = await fetch(`${base}/flask/report`);
      assert.equal(first.headers.get('x-switchyard-cache'), 'MISS');
      assert.ok(Date.now() - t >= 1_400, `first call took ${Date.now() - t} ms`);
      t = Date.now();
      const second = await fetch(`${base}/flask/report`);
      assert.equal(second.headers.get('x-switchyard-cache'), 'HIT');
      assert.ok(Date.now() - t < 500, `second call took ${Date.now() - t} ms`);
      assert.deepEqual(await second.json(), await first.json());
      // Shadow: the price is a real difference, the timestamps are noise.
      for (let i = 0; i < 10; i++) await fetch(`${base}/flask/catalog`);
      let verdicts: Record<string, string> = {};
      assert.ok(
        await eventually(async () => {
          const shadow = (await (await fetch(`${base}/_switchyard/shadow/catalog`, { headers: auth })).json()) as { fields: { field: string; verdict: string }[] };
          verdicts = Object.fromEntries(shadow.fields.map((f) => [f.field, f.verdict]));
          return verdicts['/price'] === 'difference' && verdicts['/generated_at'] === 'noise';
        }, 20_000),
        JSON.stringify(verdicts),
      );
      assert.equal(verdicts['/items/*/updated_at'], 'noise');
      // The autopilot: a run on /flask/slow started by itself and is in progress, shadow first.
      let canary: { status?: string; stage?: { kind: string }; evaluations?: { explanation: string }[] } = {};
      assert.ok(
        await eventually(async () => {
          const res = await fetch(`${base}/_switchyard/canary/slow`, { headers: auth });
          canary = res.status === 200 ? ((await res.json()) as typeof canary) : {};
          return canary.status === 'running' && (canary.evaluations?.length ?? 0) > 0;
        }, 20_000),
        JSON.stringify(canary),
      );
      assert.equal(canary.stage?.kind, 'shadow');
      assert.match(canary.evaluations?.at(-1)?.explanation ?? '', /^held at the shadow stage: /);
      assert.ok(out.includes(`${base}/_switchyard/canary/slow`));
      // The traffic generator moves the counters without us (nobody else calls Django here).
      assert.ok(await eventually(async () => (sampleValue(parsePrometheusText(await (await fetch(`${base}/_switchyard/metrics`)).text()), 'switchyard_decisions_total', { route: 'django-app', side: 'legacy' }) ?? 0) > 0, 15_000));
    } finally {
      demo.stop();
    }
    assert.equal(await demo.exited, 0, demo.stderr());
    // Everything it started is gone.
    for (const port of [flaskPort, djangoPort]) assert.ok(await refused(port), `port ${port} closed`);
  });

  it('--no-traffic: no generated requests; a bad argument is exit 2', async () => {
    const { flagsDir } = await demoFlags();
    const demo = startDemo(['--flags', flagsDir, '--port', '0', '--no-traffic']);
    try {
      let base = '';
      assert.ok(await eventually(() => ((base = /Switchyard demo is up at (http:\/\/127\.0\.0\.1:\d+)/.exec(demo.stdout())?.[1] ?? ''), base !== ''), 60_000), demo.stdout() + demo.stderr());
      assert.match(demo.stdout(), /traffic: +off \(--no-traffic\)/);
      await new Promise((r) => setTimeout(r, 1_500));
      const metrics = parsePrometheusText(await (await fetch(`${base}/_switchyard/metrics`)).text());
      assert.equal(metrics.find((f) => f.name === 'switchyard_decisions')?.samples.length, 0, 'no request was routed');
    } finally {
      demo.stop();
    }
    assert.equal(await demo.exited, 0);
    const bad = startDemo(['--colour']);
    assert.equal(await bad.exited, 2);
    assert.match(bad.stderr(), /demo: unknown argument `--colour`\nusage: npm run demo/);
  });
});
