import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ENVIRONMENT } from '../../src/cli/environment.js';
import { ROOT, runCli } from '../support/cli-process.js';

const HANDLERS = path.join(ROOT, 'examples/new-handlers.ts');
const UPSTREAMS = 'upstreams:\n  flask: { url: "http://127.0.0.1:8001" }\n';
let dir: string;

/** A fresh flags directory with these files. */
async function flagsDir(files: Record<string, string>): Promise<string> {
  const d = await mkdtemp(path.join(dir, 'flags-'));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(d, name), text);
  return d;
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'switchyard-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('switchyard --help / --version', () => {
  it('--help (and -h, and help) prints usage, every command and every environment variable, exit 0', async () => {
    const help = await runCli(['--help']).done;
    assert.equal(help.code, 0);
    assert.equal(help.stderr, '');
    for (const text of ['Usage:', 'switchyard check', 'switchyard routes', '--flags DIR', '/_switchyard/readyz', 'Exit codes:']) assert.ok(help.stdout.includes(text), text);
    for (const name of ENVIRONMENT.flatMap((g) => g.variables.map((v) => v.name))) assert.match(help.stdout, new RegExp(`^  ${name} `, 'm'), name);
    assert.equal((await runCli(['-h']).done).stdout, help.stdout);
    assert.equal((await runCli(['check', '--help']).done).stdout, help.stdout, 'help wins over the rest of the line');
  });

  it('--version prints the version from package.json', async () => {
    const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const run = await runCli(['--version']).done;
    assert.equal(run.code, 0);
    assert.equal(run.stdout, `switchyard ${version}\n`);
    assert.equal((await runCli(['-V']).done).stdout, run.stdout);
  });

  it('wrong usage answers with the reason and the help text on stderr, exit 2, and starts nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['--colour'], /^switchyard: unknown option `--colour`\n\nUsage:/],
      [['deploy'], /^switchyard: unknown command `deploy`\n\nUsage:/],
      [['--port'], /^switchyard: option `--port` needs a value\n\nUsage:/],
      [['--flags', '--port', '1'], /^switchyard: option `--flags` needs a value/],
      [['check', '--port', '8080'], /^switchyard: unknown option `--port` for `check`/],
      [['routes', 'extra'], /^switchyard: unexpected argument `extra`/],
    ];
    for (const [args, expected] of cases) {
      const run = await runCli(args).done;
      assert.equal(run.code, 2, args.join(' '));
      assert.match(run.stderr, expected, args.join(' '));
      assert.match(run.stderr, /Environment:/);
      assert.equal(run.stdout, '');
    }
  });
});

describe('switchyard check', () => {
  it('valid: exit 0 and exactly one summary line on stdout (warnings on stderr)', async () => {
    const d = await flagsDir({
      'upstreams.yaml': UPSTREAMS,
      'routes.yaml': 'routes:\n  - name: app\n    path: /flask/*\n    legacy: { upstream: flask }\n  - name: hello\n    path: /flask/hello\n    legacy: { upstream: flask }\n    new: { handler: hello }\n',
    });
    const run = await runCli(['check', '--flags', d, '--handlers', HANDLERS]).done;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^${d.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: valid — 2 files, 1 upstream, 2 routes, 1 warning, version [0-9a-f]{12}\\n$`));
    assert.match(run.stderr, /^switchyard: warning: route `hello` .* lies inside legacy mount `app`/);
  });

  it('invalid: exit 1 with every problem as file:line: field: reason, nothing on stdout', async () => {
    const d = await flagsDir({ 'routes.yaml': `${UPSTREAMS}routes:\n  - name: a\n    path: /a\n    legacy: { upstream: flsk }\n  - name: b\n    path: /b\n    legacy: { upstream: flask }\n    mode: rollout\n    rollout: { percentage: 101 }\n` });
    const run = await runCli(['check', '--flags', d]).done;
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    const file = path.join(d, 'routes.yaml');
    assert.ok(run.stderr.includes('switchyard: invalid configuration (2 problems):\n'), run.stderr);
    assert.ok(run.stderr.includes(`  - ${file}:6: routes[0].legacy.upstream: no upstream named \`flsk\` (defined: flask)\n`), run.stderr);
    assert.ok(run.stderr.includes(`  - ${file}:11: routes[1].rollout.percentage: must be <= 100\n`), run.stderr);
  });

  it('handler names: checked against --handlers, and said to be unchecked without it', async () => {
    const d = await flagsDir({ 'routes.yaml': `${UPSTREAMS}routes:\n  - name: a\n    path: /a\n    legacy: { upstream: flask }\n    new: { handler: helo }\n` });
    const checked = await runCli(['check', '--flags', d, '--handlers', HANDLERS]).done;
    assert.equal(checked.code, 1);
    assert.match(checked.stderr, /routes\.yaml:7: routes\[0\]\.new\.handler: no handler named `helo` is registered \(registered: hello, /);
    const unchecked = await runCli(['check', '--flags', d]).done;
    assert.equal(unchecked.code, 0, unchecked.stderr);
    assert.match(unchecked.stdout, /valid — 1 file, 1 upstream, 1 route, 0 warnings, version \w+ \(handler names not checked: pass --handlers MODULE\)\n$/);
  });

  it('reads SWITCHYARD_FLAGS_DIR and SWITCHYARD_HANDLERS like the service; a missing directory or module is exit 1', async () => {
    const d = await flagsDir({ 'routes.yaml': `${UPSTREAMS}routes:\n  - name: a\n    path: /a\n    new: { handler: hello }\n` });
    const fromEnv = await runCli(['check'], { SWITCHYARD_FLAGS_DIR: d, SWITCHYARD_HANDLERS: HANDLERS }).done;
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.ok(fromEnv.stdout.startsWith(`${d}: valid`));
    const missing = await runCli(['check', '--flags', path.join(dir, 'nope')]).done;
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope: \(flags directory\): directory does not exist/);
    const badModule = await runCli(['check', '--flags', d, '--handlers', path.join(dir, 'missing.ts')]).done;
    assert.equal(badModule.code, 1);
    assert.match(badModule.stderr, /missing\.ts: \(handlers module\): cannot be loaded/);
    const empty = await runCli(['check', '--flags', await flagsDir({ 'notes.txt': 'x' })]).done;
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /contains no \.yaml or \.yml files/);
  });
});

describe('switchyard routes', () => {
  it('prints the table most specific first whatever the file order, with upstreams and warnings', async () => {
    const d = await flagsDir({
      'upstreams.yaml': UPSTREAMS,
      'routes.yaml':
        'routes:\n' +
        '  - name: app\n    path: /flask/*\n    legacy: { upstream: flask, stripPrefix: /flask }\n' +
        '  - name: user\n    path: /flask/users/:id\n    methods: [GET]\n    legacy: { upstream: flask, stripPrefix: /flask }\n    new: { handler: user }\n    mode: rollout\n    rollout: { percentage: 25 }\n' +
        '  - name: me\n    path: /flask/users/me\n    legacy: { upstream: flask, stripPrefix: /flask }\n    new: { handler: hello }\n    mode: new\n    cache: {}\n',
    });
    const run = await runCli(['routes', '--flags', d, '--handlers', HANDLERS]).done;
    assert.equal(run.code, 0, run.stderr);
    const rows = run.stdout.split('\n').filter((l) => /^\s+\d+\s/.test(l));
    assert.deepEqual(rows.map((l) => l.trim().split(/\s+/)[1]), ['me', 'user', 'app'], run.stdout);
    assert.match(run.stdout, /^\s+#\s+ROUTE\s+METHODS\s+PATH\s+MODE\s+LEGACY\s+NEW\s+ALSO$/m);
    assert.match(rows[1]!, /user\s+GET\s+\/flask\/users\/:id\s+rollout 25% \(group user\)\s+flask http:\/\/127\.0\.0\.1:8001 \(strips \/flask\)\s+handler user/);
    assert.match(rows[0]!, /me\s+\*\s+\/flask\/users\/me\s+new\s+.*handler hello\s+cache$/);
    assert.match(run.stdout, /Upstreams: flask http:\/\/127\.0\.0\.1:8001/);
    assert.match(run.stdout, /No conflicts; 2 warnings:\n {2}- route `me` .* lies inside legacy mount `app`/);
  });

  it('conflicts: the readable routes in match order with the conflicting ones marked, the problems, exit 1', async () => {
    const d = await flagsDir({
      'a.yaml': `${UPSTREAMS}routes:\n  - name: app\n    path: /flask/*\n    legacy: { upstream: flask }\n  - name: one\n    path: /flask/items/:id\n    legacy: { upstream: flask }\n`,
      'b.yaml': 'routes:\n  - name: two\n    path: /flask/items/:item\n    legacy: { upstream: flask }\n',
    });
    const run = await runCli(['routes', '--flags', d]).done;
    assert.equal(run.code, 1);
    const rows = run.stdout.split('\n').filter((l) => /^\s+✗?\d+\s/.test(l));
    assert.deepEqual(rows.map((l) => l.trim().split(/\s+/).slice(0, 2)), [['1', 'one'], ['✗2', 'two'], ['3', 'app']], run.stdout);
    assert.match(run.stderr, /b\.yaml:3: routes\[0\]\.path: route `two` \(\* \/flask\/items\/:item\) claims the same path and method as route `one`/);
  });
});
