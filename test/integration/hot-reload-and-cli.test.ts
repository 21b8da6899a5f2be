import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { handlers } from '../../examples/new-handlers.js';
import { eventually, ROOT, runCli as runCliProcess, type CliRun } from '../support/cli-process.js';
import { fetchJson, startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { captureLogger, listen } from '../support/switchyard-harness.js';

let flask: LegacyServer;
let dir: string;

const upstreams = (maxInFlight = 4) => `upstreams:\n  flask: { url: "${flask.url}", maxInFlight: ${maxInFlight} }\n`;
const routes = (mode: 'legacy' | 'new') =>
  `routes:\n  - name: flask-app\n    path: /flask/*\n    legacy: { upstream: flask, stripPrefix: /flask }\n  - name: hello\n    path: /flask/hello\n    methods: [GET]\n    legacy: { upstream: flask, stripPrefix: /flask }\n    new: { handler: hello }\n    mode: ${mode}\n`;

/** Flask's own count of requests that reached it for `path` (counted as they arrive, before the view runs). */
async function arrived(path: string): Promise<number> {
  return (await fetchJson<Record<string, number>>(`${flask.url}/__hits`))[path] ?? 0;
}

/** Resolves once one more request for `path` has reached Flask: it is in flight, not merely sent. */
async function inFlightAt(path: string, before: number): Promise<void> {
  assert.ok(await eventually(async () => (await arrived(path)) > before, 30_000), `no request for ${path} reached Flask`);
}

before(async () => {
  flask = await startFlask({ workers: 2 });
  dir = await mkdtemp(path.join(tmpdir(), 'switchyard-flags-'));
});
after(async () => {
  await flask?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('hot reload of flags/', () => {
  it('applies a good edit without a restart, rejects a bad one and keeps the last good config, drops no request in flight', async () => {
    await writeFile(path.join(dir, 'upstreams.yaml'), upstreams());
    await writeFile(path.join(dir, 'routes.yaml'), routes('legacy'));
    const logger = captureLogger();
    const l = await listen({ flagsDir: dir, handlers, watch: true, logger });
    const side = async () => (await fetch(`${l.url}/flask/hello`)).headers.get('x-switchyard-backend');
    try {
      assert.equal(await side(), 'legacy');
      const v1 = l.switchyard.config.version;

      // A slow legacy request is in flight while the upstream is reconfigured (new pool, new limits).
      const slowBefore = await arrived('/slow');
      const inFlight = fetch(`${l.url}/flask/slow?ms=1200`);
      await inFlightAt('/slow', slowBefore);
      await writeFile(path.join(dir, 'upstreams.yaml'), upstreams(8));
      await writeFile(path.join(dir, 'routes.yaml'), routes('new'));
      assert.ok(await eventually(async () => (await side()) === 'new'), 'the edit took effect');
      assert.notEqual(l.switchyard.config.version, v1);
      const slow = await inFlight;
      assert.equal(slow.status, 200, 'the request in flight during the reload completed');
      assert.deepEqual(await slow.json(), { slept_ms: 1200 });

      // A bad edit: logged with file, field and reason; the last good configuration stays.
      const good = l.switchyard.config.version;
      await writeFile(path.join(dir, 'routes.yaml'), `${routes('legacy')}    rollout: { percentage: 250 }\n`);
      assert.ok(await eventually(() => logger.lines.some((line) => line.includes('flags reload rejected'))), logger.lines.join('\n'));
      const rejection = logger.lines.find((line) => line.includes('flags reload rejected'))!;
      assert.match(rejection, /routes\.yaml:\d+: routes\[1\]\.rollout\.percentage: must be <= 100/);
      assert.equal(l.switchyard.config.version, good);
      assert.equal(await side(), 'new');

      // And an explicit reload() reports the same.
      const outcome = await l.switchyard.reload();
      assert.equal(outcome.ok, false);
    } finally {
      await l.close();
    }
  });
});

describe('CLI', () => {
  const runCli = (args: readonly string[], env: NodeJS.ProcessEnv = {}): CliRun => runCliProcess(args, { SWITCHYARD_LOG_LEVEL: 'info', ...env });

  it('exits non-zero naming file, line, field and reason for a bad flags file', async () => {
    const bad = await mkdtemp(path.join(tmpdir(), 'switchyard-bad-'));
    try {
      await writeFile(path.join(bad, 'routes.yaml'), `${upstreams()}routes:\n  - name: a\n    path: /a\n    legacy: { upstream: flsk }\n`);
      const { code, stderr } = await runCli(['--flags', bad, '--port', '0']).done;
      assert.equal(code, 1);
      assert.match(stderr, /cannot start: invalid configuration/);
      assert.match(stderr, /routes\.yaml:6: routes\[0\]\.legacy\.upstream: no upstream named `flsk` \(defined: flask\)/);
      // The file is named as the operator gave the directory (absolute here), not relative to the cwd.
      assert.ok(stderr.includes(`  - ${path.join(bad, 'routes.yaml')}:6: routes[0]`), stderr);
      // A relative --flags stays relative, under the directory as typed.
      const relative = path.relative(ROOT, bad);
      const rel = await runCli(['--flags', relative, '--port', '0']).done;
      assert.equal(rel.code, 1);
      assert.ok(rel.stderr.includes(`  - ${path.join(relative, 'routes.yaml')}:6: routes[0]`), rel.stderr);
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });

  it('exits non-zero for a missing flags directory, a bad env value, and an unknown option', async () => {
    const missing = await runCli(['--flags', '/nonexistent/flags']).done;
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\/nonexistent\/flags: \(flags directory\): directory does not exist/);
    const env = await runCli(['--port', '0'], { USE_LEGACY: 'maybe' }).done;
    assert.equal(env.code, 1);
    assert.match(env.stderr, /<env>: USE_LEGACY: must be true, false, 1 or 0/);
    // Wrong usage is not a configuration problem: exit 2 with the help text (test/integration/cli-commands.test.ts).
    const opt = await runCli(['--colour']).done;
    assert.equal(opt.code, 2);
    assert.match(opt.stderr, /unknown option `--colour`[^]*Usage:/);
  });

  it('starts from a flags directory, logs every mount, serves, and drains on SIGTERM', async () => {
    const good = await mkdtemp(path.join(tmpdir(), 'switchyard-good-'));
    let stop = (): void => {};
    try {
      await writeFile(path.join(good, 'upstreams.yaml'), upstreams());
      await writeFile(path.join(good, 'routes.yaml'), routes('new'));
      const cli = runCli(['--flags', good, '--port', '0', '--host', '127.0.0.1', '--handlers', path.join(ROOT, 'examples/new-handlers.ts')]);
      stop = () => cli.signal('SIGTERM');
      let url = '';
      assert.ok(
        // A cold tsx start on a loaded 2-core machine can take many seconds.
        await eventually(() => {
          url = /listening on (http:\/\/\S+)/.exec(cli.stdout())?.[1] ?? '';
          return url !== '';
        }, 60_000),
        cli.stdout(),
      );
      assert.match(cli.stdout(), new RegExp(`legacy app \`flask-app\` mounted at /flask/\\* → ${flask.url.replace(/\./g, '\\.')} \\(strips /flask\\)`));
      assert.match(cli.stdout(), /route `hello` GET \/flask\/hello: mode new; new → handler `hello`/);
      const res = await fetch(`${url}/flask/hello`);
      assert.equal(res.headers.get('x-switchyard-backend'), 'new');
      const legacy = await fetch(`${url}/flask/users/3`);
      assert.equal(legacy.headers.get('x-switchyard-backend'), 'legacy');
      // A request Node cannot parse: problem+json, then the server closes the connection.
      const malformed = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(new URL(url).port), '127.0.0.1', () => socket.write('GET /flask/hello HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n'));
        let text = '';
        socket.setEncoding('latin1');
        socket.on('data', (c: string) => (text += c));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      assert.match(malformed, /^HTTP\/1\.1 400 Bad Request\r\n[^]*content-type: application\/problem\+json[^]*"code":"SWITCHYARD_BAD_REQUEST"/i);
      // SIGTERM with a request in flight: it completes, then the process exits 0.
      const slowBefore = await arrived('/slow');
      const inFlight = fetch(`${url}/flask/slow?ms=800`);
      await inFlightAt('/slow', slowBefore);
      cli.signal('SIGTERM');
      const drained = await inFlight;
      assert.equal(drained.status, 200);
      assert.deepEqual(await drained.json(), { slept_ms: 800 });
      const { code } = await cli.done;
      assert.equal(code, 0);
    } finally {
      // A failed assertion must not leave the CLI running (it would keep the test process alive).
      stop();
      await rm(good, { recursive: true, force: true });
    }
  });
});
