import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, eventually, runCli } from '../support/cli-process.js';
import { startFlask, type LegacyServer } from '../support/legacy-apps.js';

let flask: LegacyServer;
let dir: string;

before(async () => {
  flask = await startFlask({ workers: 1 });
  dir = await mkdtemp(path.join(tmpdir(), 'switchyard-serve-'));
  await writeFile(
    path.join(dir, 'routes.yaml'),
    `upstreams:\n  flask: { url: "${flask.url}" }\nroutes:\n  - name: app\n    path: /flask/*\n    legacy: { upstream: flask, stripPrefix: /flask }\n  - name: hello\n    path: /flask/hello\n    legacy: { upstream: flask, stripPrefix: /flask }\n    new: { handler: hello }\n    mode: new\n`,
  );
});
after(async () => {
  await flask?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A TCP server that accepts and never answers: an Unleash that hangs. */
async function hangingServer(): Promise<{ url: string; close: () => void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => void sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}/api/`, close: () => (sockets.forEach((s) => s.destroy()), server.close()) };
}

const cliArgs = () => ['--flags', dir, '--port', '0', '--host', '127.0.0.1', '--handlers', path.join(ROOT, 'examples/new-handlers.ts')];

describe('switchyard serve: probes and JSON logs', () => {
  it('binds first: healthz 200 and readyz 503 while Unleash is awaited, then readyz 200 once its start-up wait runs out', async () => {
    const unleash = await hangingServer();
    const backup = await mkdtemp(path.join(tmpdir(), 'switchyard-serve-backup-'));
    const cli = runCli(cliArgs(), { SWITCHYARD_LOG_LEVEL: 'debug', UNLEASH_URL: unleash.url, UNLEASH_STARTUP_TIMEOUT_MS: '2500', SWITCHYARD_BACKUP_DIR: backup, UNLEASH_METRICS: 'false' });
    try {
      let base = '';
      assert.ok(await eventually(() => ((base = /probes answer at (http:\/\/[\d.:]+)\//.exec(cli.stdout())?.[1] ?? ''), base !== '')), cli.stdout() + cli.stderr());
      const starting = await fetch(`${base}/_switchyard/readyz`);
      assert.equal(starting.status, 503);
      assert.deepEqual(await starting.json(), { status: 'starting' });
      assert.equal((await fetch(`${base}/_switchyard/healthz`)).status, 200, 'alive while starting: an orchestrator must not restart it');
      const early = await fetch(`${base}/flask/hello`);
      assert.equal(early.status, 503);
      assert.equal(early.headers.get('retry-after'), '1');
      assert.equal(((await early.json()) as { code: string }).code, 'SWITCHYARD_STARTING');
      assert.ok(await eventually(async () => (await fetch(`${base}/_switchyard/readyz`)).status === 200, 8_000), 'ready once the wait ran out');
      assert.match(cli.stderr(), /unleash: no answer within 2500 ms/);
      assert.equal((await fetch(`${base}/flask/hello`)).headers.get('x-switchyard-backend'), 'new');
    } finally {
      cli.signal('SIGTERM');
      await cli.done;
      unleash.close();
      await rm(backup, { recursive: true, force: true });
    }
  });

  it('SWITCHYARD_LOG_FORMAT=json: every line on stdout and stderr is one JSON object with time, level and msg', async () => {
    const cli = runCli(cliArgs(), { SWITCHYARD_LOG_FORMAT: 'json', SWITCHYARD_METRICS: 'prometheus' });
    let base = '';
    try {
      // A slow start on a loaded machine must fail this test, not leave the process (and the run) hanging.
      assert.ok(await eventually(() => ((base = /"msg":"listening on (http:\/\/[\d.:]+) /.exec(cli.stdout())?.[1] ?? ''), base !== ''), 30_000), cli.stdout() + cli.stderr());
      assert.equal((await fetch(`${base}/_switchyard/metrics`)).status, 200);
    } finally {
      cli.signal('SIGTERM');
    }
    const { code, stdout, stderr } = await cli.done;
    assert.equal(code, 0);
    const lines = [...stdout.split('\n'), ...stderr.split('\n')].filter((l) => l !== '');
    assert.ok(lines.length >= 4, lines.join('\n'));
    for (const line of lines) {
      const record = JSON.parse(line) as Record<string, unknown>;
      assert.match(String(record['time']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, line);
      assert.ok(['debug', 'info', 'warn', 'error'].includes(String(record['level'])), line);
      assert.equal(typeof record['msg'], 'string', line);
    }
    const messages = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    assert.ok(messages.some((m) => m.startsWith('legacy app `app` mounted at /flask/*')), messages.join('\n'));
    assert.ok(messages.some((m) => m.startsWith('Prometheus metrics at ')), messages.join('\n'));
    assert.ok(messages.includes('SIGTERM: draining in-flight requests'), messages.join('\n'));
  });

  it('an invalid configuration under JSON logs: one JSON error line naming every issue, exit 1; a bad format value is exit 1 too', async () => {
    const bad = await mkdtemp(path.join(tmpdir(), 'switchyard-serve-bad-'));
    try {
      await writeFile(path.join(bad, 'routes.yaml'), 'routes:\n  - name: a\n    path: /a\n    legacy: { upstream: nope }\n');
      const run = await runCli(['--flags', bad, '--port', '0'], { SWITCHYARD_LOG_FORMAT: 'json' }).done;
      assert.equal(run.code, 1);
      const record = JSON.parse(run.stderr.trim()) as { level: string; code: string; issues: { file: string; line: number; field: string }[] };
      assert.equal(record.level, 'error');
      assert.equal(record.code, 'SWITCHYARD_CONFIG_INVALID');
      assert.deepEqual(record.issues.map((i) => [path.basename(i.file), i.line, i.field]), [['routes.yaml', 4, 'routes[0].legacy.upstream']]);
      const format = await runCli(['--flags', dir, '--port', '0'], { SWITCHYARD_LOG_FORMAT: 'xml' }).done;
      assert.equal(format.code, 1);
      assert.match(format.stderr, /<env>: SWITCHYARD_LOG_FORMAT: must be one of text, json \(got "xml"\)/);
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });
});
